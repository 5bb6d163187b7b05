"""Loneliness in a cohort: the three-item UCLA scale's scores (3..9) at the referral and at
the 12-week follow-up, how many referrals have both, and how the score changed among them.

The unit is the referral (a score belongs to one referral and moment); only scores measured
by `as_of` count, and the cohort is the period's, as everywhere else.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from services.analytics.columns import Codes, Flags
from services.analytics.domain import LONELINESS_BASE, LONELINESS_SCORES, LONELY_FROM, ratio
from services.analytics.snapshot import Snapshot


def _moment(scores: Codes) -> dict[str, Any]:
    tally = np.bincount(scores, minlength=LONELINESS_SCORES.stop).tolist()
    return {
        "measured": int(scores.size),
        "scores": {str(score): tally[score] for score in LONELINESS_SCORES},
        "lonely_share": ratio(int(np.count_nonzero(scores >= LONELY_FROM)), int(scores.size)),
    }


def loneliness(snapshot: Snapshot, cohort: Flags) -> dict[str, Any] | None:
    """The cohort's scores; None when no cohort referral has any (the scale is optional)."""
    codes = snapshot.referrals.loneliness[cohort]
    codes = codes[codes > 0]
    if not codes.size:
        return None
    before, after = codes % LONELINESS_BASE, codes // LONELINESS_BASE
    paired = (before > 0) & (after > 0)
    changes = after[paired] - before[paired]
    return {
        "referral": _moment(before[before > 0]),
        "week_12": _moment(after[after > 0]),
        "paired": int(np.count_nonzero(paired)),
        "mean_change": float(changes.mean()) if changes.size else None,
    }
