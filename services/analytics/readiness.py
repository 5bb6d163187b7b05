"""The readiness funnel: how many referrers reached at least each readiness level, per sector,
with ambassadors as a row of their own.

The rule (docs/analytics.md): a referrer has reached a level at the earliest evidence of it
or of any level above it. Evidence is a `ReadinessRecorded` of that level, a
`TrainingRecorded` (trained), the referrer's first `ReferralCreated` (referring) and a
`CitizenAccompanied` naming them as companion (accompanying). So the counts can only fall
from one level to the next, and a referrer who referred counts as referring even when no
`ReadinessRecorded` said so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from services.analytics.domain import READINESS_LEVELS
from services.analytics.snapshot import Snapshot, code_of

AMBASSADORS = "ambassador"  # the funnel's row for ambassadors (the role's code; no sector has it)
COUNTS = ("activated", *READINESS_LEVELS)


def reached_by(snapshot: Snapshot, end_us: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per actor code and level: reached at least that level before `end_us` (and by `as_of`)."""
    referrals = snapshot.referrals
    evidence = snapshot.readiness.copy()
    first_referral = np.full(len(snapshot.actor_ids), np.inf)
    np.minimum.at(first_referral, referrals.referrer, referrals.created)
    referring = READINESS_LEVELS.index("referring")
    evidence[:, referring] = np.fmin(evidence[:, referring], np.where(np.isinf(first_referral), np.nan, first_referral))
    # At least level i: the earliest evidence of level i or above (fmin skips NaN).
    earliest = np.fmin.accumulate(evidence[:, ::-1], axis=1)[:, ::-1]
    return (earliest < end_us) & (earliest <= snapshot.as_of_us)  # type: ignore[no-any-return]


def funnel(snapshot: Snapshot, end_us: int) -> dict[str, Any]:
    """Professionals (by sector) and ambassadors activated by the period end, and how many of
    them reached at least each level by then; `total` counts every one of them, also
    professionals without a sector (they have no row)."""
    actors = snapshot.actors
    activated = (actors.activated < end_us) & (actors.activated <= snapshot.as_of_us)
    professional = activated & (actors.role == code_of(snapshot.roles, "professional"))
    ambassador = activated & (actors.role == code_of(snapshot.roles, "ambassador"))
    rows = np.where(ambassador, len(snapshot.sectors), np.where(professional, actors.sector, -1))
    in_funnel = rows >= 0
    reached = reached_by(snapshot, end_us)
    size = len(snapshot.sectors) + 1
    tallies = [np.bincount(rows[in_funnel], minlength=size)]
    tallies += [np.bincount(rows[in_funnel & reached[:, level]], minlength=size) for level in range(reached.shape[1])]
    names = [*snapshot.sectors, AMBASSADORS]
    by_row = {
        name: {count: int(tally[row]) for count, tally in zip(COUNTS, tallies, strict=True)}
        for row, name in enumerate(names)
        if tallies[0][row]
    }
    everyone = professional | ambassador
    total = {"activated": int(np.count_nonzero(everyone))}
    total.update({level: int(np.count_nonzero(everyone & reached[:, i])) for i, level in enumerate(READINESS_LEVELS)})
    return {"by_sector": by_row, "total": total}
