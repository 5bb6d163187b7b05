"""`metrics.md`, computed from an in-memory snapshot of the projections.

Pure: no I/O. The snapshot holds plain tuples (no ORM objects), so one pass over a million
referrals stays within seconds and a few hundred megabytes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass
class Snapshot:
    actors: list[ActorRow] = field(default_factory=list)
    # citizen_ref -> (area, target groups); erased citizens are absent.
    citizens: dict[str, tuple[str | None, tuple[str, ...]]] = field(default_factory=dict)
    referrals: list[ReferralRow] = field(default_factory=list)  # only those with a ReferralCreated
    communities: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # id -> (area, kind)
    capacity: list[tuple[str, int, str]] = field(default_factory=list)  # (community, time, status)
    needs: list[tuple[int, str | None, str]] = field(default_factory=list)  # (time, area, category)
    outreach: list[tuple[int, str, int]] = field(default_factory=list)  # (time, kind, count)
    bridges: list[tuple[str, str, int]] = field(default_factory=list)  # (citizen, from community, time)


def first_referrers(referrals: list[ReferralRow]) -> dict[str, tuple[int, str]]:
    """Each citizen's first referral (by event time, over all time): (time, referrer)."""
    first: dict[str, tuple[int, str]] = {}
    for r in referrals:
        citizen, created = r[CITIZEN], r[CREATED]
        known = first.get(citizen)
        if known is None or created < known[0] or (created == known[0] and r[REFERRER] < known[1]):
            first[citizen] = (created, r[REFERRER])
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


def compute(snapshot: Snapshot, period: Period, as_of: datetime) -> dict[str, Any]:
    """Every metric of metrics.md for `period`, undisclosed (see `domain.disclose`)."""
    as_of_us = to_us(as_of)
    start, end = period.bounds(as_of_us)
    start_us = start if start is not None else -(2**63)
    since_30 = minus_local_days(end, 30)
    since_60 = minus_local_days(end, 60)

    first = first_referrers(snapshot.referrals)
    lin = lineage(snapshot, first)
    gen, root = lin.generation, lin.root
    actors = {a.actor_id: a for a in snapshot.actors}
    role_of = {a.actor_id: a.role for a in snapshot.actors}
    sector_of = {a.actor_id: a.sector for a in snapshot.actors if a.sector}
    citizens = snapshot.citizens
    communities = snapshot.communities
    practice_tracks = {cid for cid, (_, kind) in communities.items() if kind == PRACTICE_TRACK}

    def citizen_generation(citizen: str) -> int | None:
        f = first.get(citizen)
        g = gen.get(f[1]) if f else None
        return None if g is None else g + 1

    created = accepted = accompanied = welcomed = p4w = p12w = rejected = cancelled = 0
    needed = arranged_needed = accompanied_needed = 0
    unattributed = 0
    by_generation: Counter[int] = Counter()
    by_role: Counter[str] = Counter()
    by_sector: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    welcomed_by_area: Counter[str] = Counter()
    cross_known = cross_differs = 0
    max_depth: int | None = None
    days_to_welcome: list[float] = []
    reach: dict[str, set[str]] = defaultdict(set)
    referred_group: dict[str, set[str]] = defaultdict(set)
    welcomed_group: dict[str, set[str]] = defaultdict(set)
    track_participants: set[str] = set()
    referred_pairs: set[tuple[str, str]] = set()
    active: set[str] = set()
    recent_60: set[str] = set()
    per_referrer: dict[str, int] = {}

    for r in snapshot.referrals:
        t = r[CREATED]
        referrer = r[REFERRER]
        if since_60 <= t < end:
            recent_60.add(referrer)
            if t >= since_30:
                active.add(referrer)
        if t < start_us or t >= end:
            continue
        created += 1
        citizen = r[CITIZEN]
        community = r[COMMUNITY]
        referred_pairs.add((referrer, citizen))
        if (x := r[ACCEPTED]) is not None and x <= as_of_us:
            accepted += 1
        is_accompanied = (x := r[ACCOMPANIED]) is not None and x <= as_of_us
        accompanied += is_accompanied
        if r[NEEDS]:
            needed += 1
            if (x := r[ARRANGED]) is not None and x <= as_of_us:
                arranged_needed += 1
            accompanied_needed += is_accompanied
        if (x := r[P4W]) is not None and x <= as_of_us:
            p4w += 1
        if (x := r[P12W]) is not None and x <= as_of_us:
            p12w += 1
        if (x := r[REJECTED]) is not None and x <= as_of_us:
            rejected += 1
            by_reason[r[REASON]] += 1
        if (x := r[CANCELLED]) is not None and x <= as_of_us:
            cancelled += 1

        # Counted per referrer here and grouped by generation, role and sector afterwards:
        # one dict update per referral instead of three lookups (a million referrals, a few
        # thousand referrers).
        per_referrer[referrer] = per_referrer.get(referrer, 0) + 1
        if community in practice_tracks:
            track_participants.add(citizen)

        attributes = citizens.get(citizen)
        if attributes is not None:
            for group in attributes[1]:
                referred_group[group].add(citizen)

        w = r[WELCOMED]
        if w is None or w > as_of_us:
            continue
        welcomed += 1
        days_to_welcome.append((w - t) / US_PER_DAY)
        depth = citizen_generation(citizen)
        if depth is not None and (max_depth is None or depth > max_depth):
            max_depth = depth
        guide = root.get(referrer)
        if guide is not None:
            reach[guide].add(citizen)
        if attributes is not None:
            for group in attributes[1]:
                welcomed_group[group].add(citizen)
        community_area = communities.get(community, (None, None))[0]
        if community_area is not None:
            welcomed_by_area[community_area] += 1
            if attributes is not None and attributes[0] is not None:
                cross_known += 1
                cross_differs += attributes[0] != community_area

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

    # The cascade's actors at the period end, and what each generation passed on.
    actors_by_generation: Counter[int] = Counter()
    passed_on: Counter[int] = Counter()
    for a in snapshot.actors:
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
    for referrer, _citizen in referred_pairs:
        g = gen.get(referrer)
        if g is not None:
            passed_on[g] += 1

    dormant = sum(
        1
        for a in snapshot.actors
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
    days_to_welcome.sort()

    return {
        "period": period.as_json(),
        "as_of": as_of.isoformat(),
        "referrals": {
            "created": created,
            "accepted": accepted,
            "accompanied": accompanied,
            "welcomed": welcomed,
            "participating_4w": p4w,
            "participating_12w": p12w,
            "rejected": rejected,
            "cancelled": cancelled,
            "welcome_rate": ratio(welcomed, created),
            "time_to_welcome_days": {
                "median": percentile(days_to_welcome, 0.5),
                "p90": percentile(days_to_welcome, 0.9),
            },
        },
        "accompaniment": {
            "needed": needed,
            "arranged": arranged_needed,
            "accompanied": accompanied_needed,
            "gap": needed - accompanied_needed,
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
                guide: len(reach.get(guide, ()))
                for guide in sorted(a.actor_id for a in actors.values() if a.role == "guide")
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
                group: {"referred": len(referred_group[group]), "welcomed": len(welcomed_group.get(group, ()))}
                for group in sorted(referred_group)
            },
        },
        "areas": {
            "welcomed_by_area": dict(sorted(welcomed_by_area.items())),
            "cross_area_share": ratio(cross_differs, cross_known),
        },
        "capacity": {
            "communities_full": sum(1 for _, status in latest_status.values() if status == "full"),
            "rejections_by_reason": {reason: by_reason[reason] for reason in REJECTION_REASONS},
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
    first = first_referrers(snapshot.referrals)
    gen = lineage(snapshot, first).generation
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
