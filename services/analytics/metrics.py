"""`metrics.md`, computed from the columnar snapshot of the projections (`snapshot.py`).

Pure: no I/O. Every metric is a vectorised pass over the snapshot's arrays: a boolean mask
selects the period's rows, `bincount` counts per code, and distinct counts `unique` one
combined integer key (e.g. referrer * citizens + citizen) instead of building Python sets.
Only loops over a handful of items (generations, roles, target-group sets, a few thousand
capacity or outreach rows) stay in Python.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np

from services.analytics.columns import Codes, Flags
from services.analytics.domain import Period, minus_local_days, percentile, ratio, to_us
from services.analytics.loneliness import loneliness
from services.analytics.readiness import funnel
from services.analytics.snapshot import Snapshot, code_of

US_PER_DAY = 86_400_000_000
ROLES = ("guide", "professional", "ambassador")
REJECTION_REASONS = ("full", "not_suitable", "no_contact", "other")
OUTREACH_KINDS = ("postcards", "website_visit", "info_meeting", "door_to_door")


def reached(snapshot: Snapshot, stage: str, rows: Flags) -> int:
    """How many of `rows` (a mask) reached `stage` by the snapshot's `as_of`."""
    return int(np.count_nonzero(snapshot.referrals.reached(stage) & rows))


def counts(codes: Codes, size: int) -> Codes:
    """Occurrences of each code 0..size-1 (codes < 0, unknown, are left out)."""
    return np.bincount(codes[codes >= 0], minlength=size)


def distinct_pairs(first: Codes, second: Codes, second_size: int) -> Codes:
    """The distinct (first, second) pairs' `first` codes (one entry per distinct pair).

    Sort and compare neighbours: for a million int64 keys this is several times faster than
    `np.unique`'s hash table."""
    keys = np.sort(first * second_size + second)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys
    return keys // second_size  # type: ignore[no-any-return]


def marked(codes: Codes, size: int) -> Flags:
    """A per-code flag: does the code occur in `codes`."""
    flag = np.zeros(size, np.bool_)
    flag[codes] = True
    return flag


def by_word(words: list[str], tally: Codes) -> dict[str, int]:
    """{word: count} for the words that occur, sorted by word (the vocabulary is sorted)."""
    return {word: int(n) for word, n in zip(words, tally.tolist(), strict=True) if n}


def by_generation(generations: Codes) -> dict[str, int]:
    tally = np.bincount(generations[generations >= 0])
    return {str(g): int(n) for g, n in enumerate(tally.tolist()) if n}


def compute(snapshot: Snapshot, period: Period, as_of: datetime) -> dict[str, Any]:
    """Every metric of metrics.md for `period`, undisclosed (see `domain.disclose`)."""
    as_of_us = checked_as_of(snapshot, as_of)
    start, end = period.bounds(as_of_us)
    start_us = start if start is not None else -(2**63)
    since_30 = minus_local_days(end, 30)
    since_60 = minus_local_days(end, 60)

    referrals = snapshot.referrals
    actors = snapshot.actors
    n_actors, n_citizens = len(snapshot.actor_ids), snapshot.citizen_keys.size
    gen, root = snapshot.generation, snapshot.root

    # The cohort: referrals created in the period; stages count when reached by `as_of`.
    cohort = (referrals.created >= start_us) & (referrals.created < end)
    created = int(np.count_nonzero(cohort))
    needy = cohort & referrals.needs_accompaniment
    needed = int(np.count_nonzero(needy))
    needed_accompanied = reached(snapshot, "accompanied", needy)
    rejected = cohort & referrals.reached("rejected")
    rejections = counts(referrals.rejection_reason[rejected], len(snapshot.reasons))
    welcomed_rows = cohort & ~np.isnan(referrals.welcomed)
    welcomed = int(np.count_nonzero(welcomed_rows))
    days_to_welcome = np.sort((referrals.welcomed[welcomed_rows] - referrals.created[welcomed_rows]) / US_PER_DAY)

    cohort_citizen, cohort_referrer = referrals.citizen[cohort], referrals.referrer[cohort]
    welcomed_citizen, welcomed_referrer = referrals.citizen[welcomed_rows], referrals.referrer[welcomed_rows]
    in_cohort = marked(cohort_citizen, n_citizens)
    is_welcomed = marked(welcomed_citizen, n_citizens)
    track_participant = marked(cohort_citizen[snapshot.practice_track[referrals.community[cohort]]], n_citizens)

    # Referrals per referrer, then by the referrer's generation, role and sector.
    per_referrer = np.bincount(cohort_referrer, minlength=n_actors)
    referrer_generation = np.repeat(gen, per_referrer)
    by_role = counts(np.repeat(actors.role, per_referrer), len(snapshot.roles))
    role_count = dict(zip(snapshot.roles, by_role.tolist(), strict=True))
    by_sector = counts(np.repeat(actors.sector, per_referrer), len(snapshot.sectors))

    # Distinct welcomed citizens per root guide; the deepest generation among the welcomed.
    welcomed_root = root[welcomed_referrer]
    attributed = welcomed_root >= 0
    reach = np.bincount(
        distinct_pairs(welcomed_root[attributed], welcomed_citizen[attributed], n_citizens), minlength=n_actors
    )
    depths = snapshot.citizen_depth[is_welcomed]
    depths = depths[depths >= 0]
    max_depth = int(depths.max()) if depths.size else None

    welcomed_area = snapshot.community_area[referrals.community[welcomed_rows]]
    citizen_area = snapshot.citizens.area[welcomed_citizen]
    both_known = (welcomed_area >= 0) & (citizen_area >= 0)
    cross_known = int(np.count_nonzero(both_known))
    cross_differs = int(np.count_nonzero(both_known & (welcomed_area != citizen_area)))

    # Target groups per distinct citizen: count citizens per "|"-joined set (a few dozen
    # distinct sets), then spread each set's count over its groups.
    groups = snapshot.citizens.groups
    has_groups = groups >= 0
    referred_sets = counts(groups[in_cohort & has_groups], len(snapshot.group_sets)).tolist()
    welcomed_sets = counts(groups[is_welcomed & in_cohort & has_groups], len(snapshot.group_sets)).tolist()
    referred_group: Counter[str] = Counter()
    welcomed_group: Counter[str] = Counter()
    for group_set, referred_n, welcomed_n in zip(snapshot.group_sets, referred_sets, welcomed_sets, strict=True):
        if referred_n:
            for group in set(group_set.split("|")):
                referred_group[group] += referred_n
                welcomed_group[group] += welcomed_n

    # The cascade's actors at the period end, and what each generation passed on: the actors
    # it activated in the period plus its distinct (referrer, citizen) pairs in the cohort.
    activated = actors.activated
    actor_generation = np.arange(n_actors)[(activated < end) & (gen >= 0)]
    actors_by_generation = np.bincount(gen[actor_generation]) if actor_generation.size else np.zeros(0, np.int64)
    activated_now = (activated >= start_us) & (activated < end) & (actors.activated_by >= 0)
    parent_generation = gen[actors.activated_by[activated_now]]
    pair_referrers = distinct_pairs(cohort_referrer, cohort_citizen, n_citizens)
    passed_on_generations = np.concatenate([parent_generation, gen[pair_referrers]])
    passed_on = np.bincount(
        passed_on_generations[passed_on_generations >= 0], minlength=actors_by_generation.size
    ).tolist()

    recent = (referrals.created >= since_60) & (referrals.created < end)
    recent_60 = marked(referrals.referrer[recent], n_actors)
    active_30 = marked(referrals.referrer[recent & (referrals.created >= since_30)], n_actors)
    dormant_roles = [i for i, role in enumerate(snapshot.roles) if role in ("professional", "ambassador")]
    dormant = int(np.count_nonzero(np.isin(actors.role, dormant_roles) & (activated <= since_60) & ~recent_60))

    latest_status: dict[str, tuple[int, str]] = {}
    for change in snapshot.capacity:
        if change.time_us < end:
            known_status = latest_status.get(change.community_id)
            if known_status is None or (change.time_us, change.status) > known_status:
                latest_status[change.community_id] = (change.time_us, change.status)

    track_ids = {snapshot.community_ids[i] for i in np.flatnonzero(snapshot.practice_track)}
    candidates = [
        bridge.citizen_ref
        for bridge in snapshot.bridges
        if bridge.from_community_id in track_ids and bridge.time_us <= as_of_us
    ]
    candidate_codes = snapshot.citizen_codes(candidates)
    participant = track_participant[np.maximum(candidate_codes, 0)] & (candidate_codes >= 0)
    bridged = {
        citizen for citizen, is_participant in zip(candidates, participant.tolist(), strict=True) if is_participant
    }
    participants = int(np.count_nonzero(track_participant))
    reason_count = dict(zip(snapshot.reasons, rejections.tolist(), strict=True))
    generations = by_generation(referrer_generation)
    guides = sorted(str(snapshot.actor_ids[i]) for i in np.flatnonzero(actors.role == code_of(snapshot.roles, "guide")))
    reach_of = {snapshot.actor_ids[i]: int(n) for i, n in enumerate(reach.tolist()) if n}
    days = days_to_welcome.tolist()

    return {
        "period": period.as_json(),
        "as_of": as_of.isoformat(),
        "referrals": {
            "created": created,
            "accepted": reached(snapshot, "accepted", cohort),
            "accompanied": reached(snapshot, "accompanied", cohort),
            "welcomed": welcomed,
            "participating_4w": reached(snapshot, "participating_4w", cohort),
            "participating_12w": reached(snapshot, "participating_12w", cohort),
            "rejected": int(np.count_nonzero(rejected)),
            "cancelled": reached(snapshot, "cancelled", cohort),
            "no_show": reached(snapshot, "no_show", cohort),
            "welcome_rate": ratio(welcomed, created),
            "time_to_welcome_days": {"median": percentile(days, 0.5), "p90": percentile(days, 0.9)},
        },
        "accompaniment": {
            "needed": needed,
            "arranged": reached(snapshot, "arranged", needy),
            "accompanied": needed_accompanied,
            "gap": needed - needed_accompanied,
        },
        "cascade": {
            "referrals_by_generation": generations,
            "unattributed_referrals": int(np.count_nonzero(referrer_generation < 0)),
            "self_sustainment": ratio(created - role_count.get("guide", 0), created),
            "max_depth": max_depth,
            "actors_by_generation": {str(g): int(n) for g, n in enumerate(actors_by_generation.tolist()) if n},
            "branching_factor_by_generation": {
                str(g): passed_on[g] / n for g, n in enumerate(actors_by_generation.tolist()) if n
            },
            "reach_by_guide": {guide: reach_of.get(guide, 0) for guide in guides},
            "generations": by_generation_rows(generations, actors_by_generation.tolist(), passed_on),
        },
        "referrers": {
            "active_30d": int(np.count_nonzero(active_30)),
            "dormant_60d": dormant,
            "referrals_by_role": {role: role_count.get(role, 0) for role in ROLES},
            "referrals_by_sector": by_word(snapshot.sectors, by_sector),
        },
        "equity": {
            "by_target_group": {
                group: {"referred": referred_group[group], "welcomed": welcomed_group[group]}
                for group in sorted(referred_group)
            },
        },
        "areas": {
            "welcomed_by_area": by_word(snapshot.areas, counts(welcomed_area, len(snapshot.areas))),
            "cross_area_share": ratio(cross_differs, cross_known),
        },
        "capacity": {
            "communities_full": sum(1 for _, status in latest_status.values() if status == "full"),
            "rejections_by_reason": {reason: reason_count.get(reason, 0) for reason in REJECTION_REASONS},
            "unmet_needs_by_category": dict(
                sorted(Counter(need.category for need in snapshot.needs if start_us <= need.time_us < end).items())
            ),
        },
        "practice_tracks": {
            "participants": participants,
            "bridged": len(bridged),
            "bridging_rate": ratio(len(bridged), participants),
        },
        "outreach": {
            kind: sum(row.amount for row in snapshot.outreach if row.kind == kind and start_us <= row.time_us < end)
            for kind in OUTREACH_KINDS
        },
        "readiness": funnel(snapshot, end),
        "loneliness": loneliness(snapshot, cohort),
        "suppressed": [],
    }


def by_generation_rows(referrals: dict[str, int], actors: list[int], passed_on: list[int]) -> list[dict[str, Any]]:
    """The cascade one generation a row (for drawing): the same numbers as
    `actors_by_generation`, `referrals_by_generation` and `branching_factor_by_generation`."""
    known = sorted({int(g) for g in referrals} | {g for g, n in enumerate(actors) if n})
    return [
        {
            "generation": g,
            "referrers": actors[g] if g < len(actors) else 0,
            "referrals": referrals.get(str(g), 0),
            "branching_factor": passed_on[g] / actors[g] if g < len(actors) and actors[g] else None,
        }
        for g in known
    ]


def checked_as_of(snapshot: Snapshot, as_of: datetime) -> int:
    """The snapshot knows stages only up to its own `as_of`: computing for another moment
    would silently miss or include stages."""
    as_of_us = to_us(as_of)
    if as_of_us != snapshot.as_of_us:
        raise ValueError("the snapshot was loaded for another as_of; load it for this one")
    return as_of_us
