"""Loneliness in a cohort: the three-item UCLA scale's scores (3..9) at the referral and at
the 12-week follow-up, how many referrals have both, and how the score changed among them.

The unit is the referral (a score belongs to one referral and moment); only scores measured
by `as_of` count, and the cohort is the period's, as everywhere else.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from services.analytics.columns import Times
from services.analytics.domain import LONELINESS_SCORES, LONELY_FROM, ratio
from services.analytics.snapshot import Snapshot


def _moment(scores: Times) -> dict[str, Any]:
    tally = np.bincount(scores.astype(np.int64), minlength=LONELINESS_SCORES.stop).tolist()
    return {
        "measured": int(scores.size),
        "scores": {str(score): tally[score] for score in LONELINESS_SCORES},
        "lonely_share": ratio(int(np.count_nonzero(scores >= LONELY_FROM)), int(scores.size)),
    }


def loneliness(snapshot: Snapshot, start_us: int, end_us: int) -> dict[str, Any] | None:
    """The cohort's scores; None when no cohort referral has any (the scale is optional)."""
    scores = snapshot.loneliness
    cohort = (scores.created >= start_us) & (scores.created < end_us)
    if not cohort.any():
        return None
    before, after = scores.referral[cohort], scores.week_12[cohort]
    paired = ~np.isnan(before) & ~np.isnan(after)
    changes = after[paired] - before[paired]
    return {
        "referral": _moment(before[~np.isnan(before)]),
        "week_12": _moment(after[~np.isnan(after)]),
        "paired": int(np.count_nonzero(paired)),
        "mean_change": float(changes.mean()) if changes.size else None,
    }
