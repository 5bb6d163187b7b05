"""The cascade month by month (the dashboard's growth and self-sustainment charts), from
the same columnar snapshot as `metrics.compute`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np

from services.analytics.domain import local_date, local_midnight_us, ratio
from services.analytics.metrics import checked_as_of
from services.analytics.snapshot import Snapshot


def month_starts(first_us: int, last_us: int) -> list[tuple[str, int]]:
    """("YYYY-MM", first microsecond of that Copenhagen month) covering first..last."""
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
    as_of_us = checked_as_of(snapshot, as_of)
    referrals = snapshot.referrals
    rows = referrals.created <= as_of_us
    if not rows.any():
        return []
    created_us = referrals.created[rows]
    months = month_starts(int(created_us.min()), int(created_us.max()))
    n = len(months)
    month = np.searchsorted(np.array([start for _, start in months], np.float64), created_us, side="right") - 1
    generation = snapshot.generation[referrals.referrer[rows]]
    attributed = generation >= 0
    created = np.bincount(month, minlength=n).tolist()
    welcomed = np.bincount(month[~np.isnan(referrals.welcomed[rows])], minlength=n).tolist()
    unattributed = np.bincount(month[~attributed], minlength=n).tolist()
    by_guides = np.bincount(month[generation == 0], minlength=n).tolist()
    depth = int(generation.max()) + 1 if attributed.any() else 0
    per_generation = np.bincount(month[attributed] * depth + generation[attributed], minlength=n * depth)
    per_generation = per_generation.reshape(n, depth) if depth else np.zeros((n, 0), np.int64)
    return [
        {
            "month": label,
            "created": created[i],
            "welcomed": welcomed[i],
            "referrals_by_generation": {str(g): n for g, n in enumerate(per_generation[i].tolist()) if n},
            "unattributed_referrals": unattributed[i],
            "self_sustainment": ratio(created[i] - by_guides[i], created[i]),
        }
        for i, (label, _) in enumerate(months)
    ]
