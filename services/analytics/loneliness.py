"""Loneliness in a cohort: the three-item UCLA scale's scores (3..9) at the referral and at
the 12-week follow-up, how many referrals have both, and how the score changed among them.

The unit is the referral (a score belongs to one referral and moment); only scores measured
by `as_of` count, and the cohort is the period's, as everywhere else.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.analytics.domain import LONELINESS_MOMENTS, LONELINESS_SCORES, LONELY_FROM, ratio
from services.analytics.snapshot import Snapshot


def _moment(scores: dict[str, int]) -> dict[str, Any]:
    tally = Counter(scores.values())
    lonely = sum(n for score, n in tally.items() if score >= LONELY_FROM)
    return {
        "measured": len(scores),
        "scores": {str(score): tally.get(score, 0) for score in LONELINESS_SCORES},
        "lonely_share": ratio(lonely, len(scores)),
    }


def loneliness(snapshot: Snapshot, start_us: int, end_us: int) -> dict[str, Any] | None:
    """The cohort's scores; None when no cohort referral has any (the scale is optional)."""
    by_moment: dict[str, dict[str, int]] = {moment: {} for moment in LONELINESS_MOMENTS}
    for row in snapshot.loneliness:
        if start_us <= row.created_us < end_us and row.moment in by_moment:
            by_moment[row.moment][row.referral_id] = row.score
    if not any(by_moment.values()):
        return None
    before, after = by_moment["referral"], by_moment["week_12"]
    paired = sorted(before.keys() & after.keys())
    change = sum(after[referral] - before[referral] for referral in paired)
    return {
        "referral": _moment(before),
        "week_12": _moment(after),
        "paired": len(paired),
        "mean_change": change / len(paired) if paired else None,
    }
