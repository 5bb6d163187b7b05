"""The analytics application layer: metrics on demand, snapshots, and the nightly run."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from services.analytics import store
from services.analytics.domain import Period, next_run, nightly_periods, to_us
from services.analytics.metrics import compute, monthly
from services.analytics.snapshot import Snapshot
from shared.db import Database
from shared.events.analytics import MetricsSnapshotPublished
from shared.ids import new_id
from shared.runtime import Runtime

log = logging.getLogger("vejviser.analytics")


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Millions of freshly made tuples trigger full cyclic-GC passes again and again (seconds
    at a million referrals); none of them form cycles, so the collector can rest meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def metrics_for(db: Database, period: Period, as_of: datetime | None = None) -> dict[str, Any]:
    """Undisclosed metrics for one period, from the projections as they are now."""
    as_of = as_of or datetime.now(UTC)
    with no_cyclic_gc():
        with db.transaction() as session:
            snapshot = store.load_snapshot(session, as_of)
        return compute(snapshot, period, as_of)


def snapshot_body(
    snapshot: Snapshot, periods: list[tuple[str, Period]], as_of: datetime, needs_by_area: dict[str, dict[str, int]]
) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "periods": {name: compute(snapshot, period, as_of) for name, period in periods},
        "monthly": monthly(snapshot, as_of),
        "needs_by_area": needs_by_area,
    }


def take_snapshot(runtime: Runtime, now: datetime | None = None, label: str = "nightly") -> str:
    """Compute yesterday, the last 30 days and all time; store them and publish
    `MetricsSnapshotPublished` through the outbox, in one transaction."""
    now = now or datetime.now(UTC)
    periods = nightly_periods(now)
    snapshot_id = new_id()
    with no_cyclic_gc(), runtime.db.transaction() as session:
        snapshot = store.load_snapshot(session, now)
        needs = store.needs_by_area(session, None, to_us(now) + 1)
        body = snapshot_body(snapshot, periods.items(), now, needs)
        day = periods.yesterday.start
        store.save_snapshot(session, snapshot_id, now, f"{label} {day}", body)
        runtime.stage(
            session,
            MetricsSnapshotPublished(snapshot_id=snapshot_id, period=f"{day}", computed_at=now),
            time=now,
        )
    runtime.committed()
    log.info("metrics snapshot %s stored (%s)", snapshot_id, label)
    return snapshot_id


async def run_schedule(runtime: Runtime, cron: str, stop: asyncio.Event) -> None:
    """Take a snapshot each time the cron expression fires (Copenhagen wall clock)."""
    while not stop.is_set():
        now = datetime.now(UTC)
        due = next_run(cron, now)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, (due - now).total_seconds()))
            return
        except TimeoutError:
            pass
        try:
            await asyncio.to_thread(take_snapshot, runtime, due)
        except Exception:
            log.exception("nightly snapshot failed; the next run will try again")


async def snapshot_when_data_arrives(
    runtime: Runtime, stop: asyncio.Event, poll: float = 2.0, settle_polls: int = 2, give_up_after: float = 900.0
) -> str | None:
    """Demo: once referrals have arrived and the flow has settled, take the first snapshot,
    so the dashboard shows the demo world without waiting for 02:00."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    last, stable = -1, 0
    while not stop.is_set() and loop.time() < deadline:
        with runtime.db.transaction() as session:
            count = store.has_referrals(session)
        stable = stable + 1 if count and count == last else 0
        last = count
        if stable >= settle_polls:
            return await asyncio.to_thread(take_snapshot, runtime, None, "demo")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)
    return None
