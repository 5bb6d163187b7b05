"""`metrics.md`, computed from an in-memory snapshot of the projections.

Pure: no I/O. The snapshot holds plain tuples (no ORM objects). At a million referrals the
cost is in touching per-citizen structures (700,000 keys: every lookup is a cache miss) from
a Python loop, so `compute` works in bulk passes that run in C (`map`/`itemgetter`, `Counter`,
`set`, `filter`) over the period's rows, and only the few per-referrer, per-guide and
per-citizen loops that the definitions need run in Python. Period-independent work (each
citizen's first referral, the cascade's lineage) is done once per snapshot and cached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from operator import is_not, itemgetter
from typing import Any, NamedTuple

from services.analytics.domain import (
    Lineage,
    Period,
    minus_local_days,
    percentile,
    ratio,
    resolve_lineage,
    to_us,
)

US_PER_DAY = 86_400_000_000
ROLES = ("guide", "professional", "ambassador")
REJECTION_REASONS = ("full", "not_suitable", "no_contact", "other")
OUTREACH_KINDS = ("postcards", "website_visit", "info_meeting", "door_to_door")
PRACTICE_TRACK = "practice_track"


class ActorRow(NamedTuple):
    actor_id: str
    role: str | None
    sector: str | None
    area: str | None
    activated_by: str | None
    citizen_ref: str | None
    activated_us: int | None


# A referral row, in this column order (plain tuples: a NamedTuple per row costs seconds
# at a million rows): created, citizen, community, referrer, needs_accompaniment, accepted,
# arranged, accompanied, welcomed, rejected, rejection_reason, cancelled, participating 4w, 12w.
ReferralRow = tuple[Any, ...]
(CREATED, CITIZEN, COMMUNITY, REFERRER, NEEDS, ACCEPTED, ARRANGED, ACCOMPANIED, WELCOMED,
 REJECTED, REASON, CANCELLED, P4W, P12W) = range(14)

_citizen_of = itemgetter(CITIZEN)
_referrer_of = itemgetter(REFERRER)
_not_none = partial(is_not, None)


@dataclass
class Snapshot:
    actors: list[ActorRow] = field(default_factory=list)
    # Citizen attributes, only where known (erased citizens are absent from both): the area,
    # and the target groups "|"-joined (split only for the citizens a period reaches).
    citizen_area: dict[str, str] = field(default_factory=dict)
    citizen_groups: dict[str, str] = field(default_factory=dict)
    referrals: list[ReferralRow] = field(default_factory=list)  # only those with a ReferralCreated
    communities: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # id -> (area, kind)
    capacity: list[tuple[str, int, str]] = field(default_factory=list)  # (community, time, status)
    needs: list[tuple[int, str | None, str]] = field(default_factory=list)  # (time, area, category)
    outreach: list[tuple[int, str, int]] = field(default_factory=list)  # (time, kind, count)
    bridges: list[tuple[str, str, int]] = field(default_factory=list)  # (citizen, from community, time)

    @cached_property
    def first_referrers(self) -> dict[str, tuple[int, str]]:
        return first_referrers(self.referrals)

    @cached_property
    def lineage(self) -> Lineage:
        return lineage(self, self.first_referrers)

    @cached_property
    def citizens_by_generation(self) -> dict[int, list[str]]:
        """Referred citizens by generation (one below the referrer of their first referral),
        deepest first: `max_depth` then only has to find the deepest non-empty overlap."""
        gen = self.lineage.generation
        by_generation: dict[int, list[str]] = {}
        for citizen, (_, referrer) in self.first_referrers.items():
            g = gen.get(referrer)
            if g is not None:
                by_generation.setdefault(g + 1, []).append(citizen)
        return dict(sorted(by_generation.items(), reverse=True))


def first_referrers(referrals: list[ReferralRow]) -> dict[str, tuple[int, str]]:
    """Each citizen's first referral (by event time, over all time): (time, referrer)."""
    first: dict[str, tuple[int, str]] = {}
    known_first = first.get
    candidates = map(itemgetter(CREATED, REFERRER), referrals)
    for citizen, candidate in zip(map(_citizen_of, referrals), candidates, strict=True):
        known = known_first(citizen)
        if known is None or candidate < known:  # ties on time: the smaller referrer id
            first[citizen] = candidate
    return first


def lineage(snapshot: Snapshot, first: dict[str, tuple[int, str]]) -> Lineage:
    actors = {a.actor_id: a for a in snapshot.actors}

    def is_guide(actor_id: str) -> bool:
        row = actors.get(actor_id)
        return row is not None and row.role == "guide"

    def parent(actor_id: str) -> str | None:
        row = actors.get(actor_id)
        if row is None:
            return None
        if row.activated_by:
            return row.activated_by
        if row.role == "ambassador" and row.citizen_ref:
            first_referral = first.get(row.citizen_ref)
            return first_referral[1] if first_referral else None
        return None

    return resolve_lineage(actors, is_guide, parent)


def reached(times: Iterable[int | None], as_of_us: int) -> int:
    """How many of `times` are set and not after `as_of` (a stage reached by then).

    Nearly always every recorded time is before `as_of`, so count in C and only compare
    one by one when the latest one is not."""
    known: list[int] = list(filter(_not_none, times))  # type: ignore[arg-type]
    if not known or max(known) <= as_of_us:
        return len(known)
    return sum(1 for t in known if t <= as_of_us)


def compute(snapshot: Snapshot, period: Period, as_of: datetime) -> dict[str, Any]:
    """Every metric of metrics.md for `period`, undisclosed (see `domain.disclose`)."""
    as_of_us = to_us(as_of)
    start, end = period.bounds(as_of_us)
    start_us = start if start is not None else -(2**63)
    since_30 = minus_local_days(end, 30)
    since_60 = minus_local_days(end, 60)

    lin = snapshot.lineage
    gen, root = lin.generation, lin.root
    actors = snapshot.actors
    communities = snapshot.communities
    practice_tracks = {cid for cid, (_, kind) in communities.items() if kind == PRACTICE_TRACK}
    community_area = {cid: area for cid, (area, _) in communities.items() if area is not None}

    rows = snapshot.referrals
    recent = [r for r in rows if since_60 <= r[CREATED] < end]
    recent_60 = set(map(_referrer_of, recent))
    active = set(map(_referrer_of, (r for r in recent if r[CREATED] >= since_30)))

    # The cohort: referrals created in the period.
    cohort = [r for r in rows if start_us <= r[CREATED] < end]
    created = len(cohort)
    needy = [r for r in cohort if r[NEEDS]]
    is_accompanied = reached(map(itemgetter(ACCOMPANIED), cohort), as_of_us)
    needed_accompanied = reached(map(itemgetter(ACCOMPANIED), needy), as_of_us)
    rejections = Counter(r[REASON] for r in cohort if r[REJECTED] is not None and r[REJECTED] <= as_of_us)
    welcomed_rows = [r for r in cohort if r[WELCOMED] is not None and r[WELCOMED] <= as_of_us]
    days_to_welcome = sorted([(w - t) / US_PER_DAY for t, w in map(itemgetter(CREATED, WELCOMED), welcomed_rows)])

    cohort_citizens = set(map(_citizen_of, cohort))
    welcomed_citizens = set(map(_citizen_of, welcomed_rows))
    track_participants = {r[CITIZEN] for r in cohort if r[COMMUNITY] in practice_tracks}

    # Grouped per referrer first (a few thousand, each with a small, cache-friendly list of
    # citizens), then by generation, role and sector.
    citizens_by_referrer: dict[str, list[str]] = {}
    for referrer, citizen in zip(map(_referrer_of, cohort), map(_citizen_of, cohort), strict=True):
        referred = citizens_by_referrer.get(referrer)
        if referred is None:
            citizens_by_referrer[referrer] = [citizen]
        else:
            referred.append(citizen)
    per_referrer = {referrer: len(citizens) for referrer, citizens in citizens_by_referrer.items()}
    by_generation: Counter[int] = Counter()
    by_role: Counter[str] = Counter()
    by_sector: Counter[str] = Counter()
    unattributed = 0
    role_of = {a.actor_id: a.role for a in actors}
    sector_of = {a.actor_id: a.sector for a in actors if a.sector}
    for referrer, count in per_referrer.items():
        g = gen.get(referrer)
        if g is None:
            unattributed += count
        else:
            by_generation[g] += count
        role = role_of.get(referrer)
        if role is not None:
            by_role[role] += count
        sector = sector_of.get(referrer)
        if sector is not None:
            by_sector[sector] += count

    # Distinct welcomed citizens per guide at the root of the referrer's chain: one set per
    # guide (a handful) rather than a set of (guide, citizen) tuples.
    welcomed_by_guide: dict[str, list[str]] = {}
    for guide, citizen in zip(map(root.get, map(_referrer_of, welcomed_rows)), map(_citizen_of, welcomed_rows),
                              strict=True):
        if guide is not None:
            welcomed_by_guide.setdefault(guide, []).append(citizen)
    reach = {guide: len(set(citizens)) for guide, citizens in welcomed_by_guide.items()}
    max_depth = next((depth for depth, citizens in snapshot.citizens_by_generation.items()
                      if not welcomed_citizens.isdisjoint(citizens)), None)

    welcomed_areas = list(map(community_area.get, map(itemgetter(COMMUNITY), welcomed_rows)))
    welcomed_by_area = Counter(filter(_not_none, welcomed_areas))
    cross_known = cross_differs = 0
    citizen_areas = map(snapshot.citizen_area.get, map(_citizen_of, welcomed_rows))
    for community_at, citizen_at in zip(welcomed_areas, citizen_areas, strict=True):
        if community_at is not None and citizen_at is not None:
            cross_known += 1
            cross_differs += citizen_at != community_at

    referred_group: Counter[str] = Counter()
    welcomed_group: Counter[str] = Counter()
    for citizen, groups in snapshot.citizen_groups.items():
        if citizen in cohort_citizens:
            split = set(groups.split("|"))
            for group in split:
                referred_group[group] += 1
            if citizen in welcomed_citizens:
                for group in split:
                    welcomed_group[group] += 1

    # The cascade's actors at the period end, and what each generation passed on: the actors
    # it activated in the period plus its distinct (referrer, citizen) pairs in the cohort.
    actors_by_generation: Counter[int] = Counter()
    passed_on: Counter[int] = Counter()
    for a in actors:
        t = a.activated_us
        if t is None:
            continue
        g = gen.get(a.actor_id)
        if g is not None and t < end:
            actors_by_generation[g] += 1
        if a.activated_by and start_us <= t < end:
            parent_generation = gen.get(a.activated_by)
            if parent_generation is not None:
                passed_on[parent_generation] += 1
    for referrer, citizens in citizens_by_referrer.items():
        g = gen.get(referrer)
        if g is not None:
            passed_on[g] += len(set(citizens))

    dormant = sum(
        1
        for a in actors
        if a.role in ("professional", "ambassador")
        and a.activated_us is not None
        and a.activated_us <= since_60
        and a.actor_id not in recent_60
    )

    latest_status: dict[str, tuple[int, str]] = {}
    for community, t, status in snapshot.capacity:
        if t < end:
            known_status = latest_status.get(community)
            if known_status is None or (t, status) > known_status:
                latest_status[community] = (t, status)

    bridged = {
        citizen
        for citizen, source, t in snapshot.bridges
        if source in practice_tracks and t <= as_of_us and citizen in track_participants
    }
    welcomed = len(welcomed_rows)

    return {
        "period": period.as_json(),
        "as_of": as_of.isoformat(),
        "referrals": {
            "created": created,
            "accepted": reached(map(itemgetter(ACCEPTED), cohort), as_of_us),
            "accompanied": is_accompanied,
            "welcomed": welcomed,
            "participating_4w": reached(map(itemgetter(P4W), cohort), as_of_us),
            "participating_12w": reached(map(itemgetter(P12W), cohort), as_of_us),
            "rejected": rejections.total(),
            "cancelled": reached(map(itemgetter(CANCELLED), cohort), as_of_us),
            "welcome_rate": ratio(welcomed, created),
            "time_to_welcome_days": {
                "median": percentile(days_to_welcome, 0.5),
                "p90": percentile(days_to_welcome, 0.9),
            },
        },
        "accompaniment": {
            "needed": len(needy),
            "arranged": reached(map(itemgetter(ARRANGED), needy), as_of_us),
            "accompanied": needed_accompanied,
            "gap": len(needy) - needed_accompanied,
        },
        "cascade": {
            "referrals_by_generation": {str(g): by_generation[g] for g in sorted(by_generation)},
            "unattributed_referrals": unattributed,
            "self_sustainment": ratio(created - by_role["guide"], created),
            "max_depth": max_depth,
            "actors_by_generation": {str(g): actors_by_generation[g] for g in sorted(actors_by_generation)},
            "branching_factor_by_generation": {
                str(g): passed_on[g] / actors_by_generation[g] for g in sorted(actors_by_generation)
            },
            "reach_by_guide": {
                guide: reach.get(guide, 0)
                for guide in sorted({a.actor_id for a in actors if a.role == "guide"})
            },
        },
        "referrers": {
            "active_30d": len(active),
            "dormant_60d": dormant,
            "referrals_by_role": {role: by_role[role] for role in ROLES},
            "referrals_by_sector": dict(sorted(by_sector.items())),
        },
        "equity": {
            "by_target_group": {
                group: {"referred": referred_group[group], "welcomed": welcomed_group[group]}
                for group in sorted(referred_group)
            },
        },
        "areas": {
            "welcomed_by_area": dict(sorted(welcomed_by_area.items())),
            "cross_area_share": ratio(cross_differs, cross_known),
        },
        "capacity": {
            "communities_full": sum(1 for _, status in latest_status.values() if status == "full"),
            "rejections_by_reason": {reason: rejections[reason] for reason in REJECTION_REASONS},
            "unmet_needs_by_category": dict(
                sorted(Counter(category for t, _, category in snapshot.needs if start_us <= t < end).items())
            ),
        },
        "practice_tracks": {
            "participants": len(track_participants),
            "bridged": len(bridged),
            "bridging_rate": ratio(len(bridged), len(track_participants)),
        },
        "outreach": {
            kind: sum(count for t, k, count in snapshot.outreach if k == kind and start_us <= t < end)
            for kind in OUTREACH_KINDS
        },
        "suppressed": [],
    }


def month_starts(first_us: int, last_us: int) -> list[tuple[str, int]]:
    """("YYYY-MM", first microsecond of that Copenhagen month) covering first..last."""
    from datetime import date

    from services.analytics.domain import local_date, local_midnight_us

    day = local_date(first_us).replace(day=1)
    end = local_date(last_us)
    months: list[tuple[str, int]] = []
    while day <= end:
        months.append((day.strftime("%Y-%m"), local_midnight_us(day)))
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def monthly(snapshot: Snapshot, as_of: datetime) -> list[dict[str, Any]]:
    """The cascade month by month (by ReferralCreated month): referrals by referrer generation,
    the share not made by guides (self-sustainment) and the welcomes among them."""
    from bisect import bisect_right

    as_of_us = to_us(as_of)
    times = [r[CREATED] for r in snapshot.referrals if r[CREATED] <= as_of_us]
    if not times:
        return []
    months = month_starts(min(times), max(times))
    bounds = [start for _, start in months]
    gen = snapshot.lineage.generation
    created = [0] * len(months)
    by_guides = [0] * len(months)
    welcomed = [0] * len(months)
    unattributed = [0] * len(months)
    by_generation: list[Counter[int]] = [Counter() for _ in months]
    for r in snapshot.referrals:
        t = r[CREATED]
        if t > as_of_us:
            continue
        i = bisect_right(bounds, t) - 1
        created[i] += 1
        g = gen.get(r[REFERRER])
        if g is None:
            unattributed[i] += 1
        else:
            by_generation[i][g] += 1
            by_guides[i] += g == 0
        w = r[WELCOMED]
        welcomed[i] += w is not None and w <= as_of_us
    return [
        {
            "month": label,
            "created": created[i],
            "welcomed": welcomed[i],
            "referrals_by_generation": {str(g): n for g, n in sorted(by_generation[i].items())},
            "unattributed_referrals": unattributed[i],
            "self_sustainment": ratio(created[i] - by_guides[i], created[i]),
        }
        for i, (label, _) in enumerate(months)
    ]
