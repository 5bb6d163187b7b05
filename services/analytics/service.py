"""The analytics use cases: project events (the consumers), and on the `Analytics` service
object metrics on demand, snapshots (nightly, and the demo's first one) and reading the
stored snapshots back."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from services.analytics import store, upsert
from services.analytics.domain import Period, next_run, nightly_periods, to_us
from services.analytics.metrics import compute
from services.analytics.monthly import monthly
from services.analytics.projection import Changes
from services.analytics.snapshot import Snapshot
from shared.events import Envelope, Event
from shared.events.analytics import MetricsSnapshotPublished
from shared.ids import new_id
from shared.inbox import batched
from shared.runtime import Runtime

log = logging.getLogger("vejviser.analytics")
HISTORY = 30  # earlier snapshots the dashboard links to


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


@batched
def project(session: Session, pairs: list[tuple[Envelope, Event]]) -> None:
    """A live consumer's batch of events into the projections, merged in memory and upserted
    in bulk: the same code, and so the same rows, as a rebuild."""
    changes = Changes()
    for envelope, event in pairs:
        changes.add_envelope(envelope, event)
    upsert.write(session, changes)


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
    `MetricsSnapshotPublished` through the outbox, in one unit of work.

    The projections are read and the metrics computed before it, so the write lock is held
    only for the insert, not for seconds of arithmetic."""
    moment = now or runtime.clock.now()
    periods = nightly_periods(moment)
    day = periods.yesterday.start

    def read(session: Session) -> tuple[Snapshot, dict[str, dict[str, int]]]:
        return store.load_snapshot(session, moment), store.needs_by_area(session, None, to_us(moment) + 1)

    with no_cyclic_gc():
        snapshot, needs = runtime.read(read)
        body = snapshot_body(snapshot, periods.items(), moment, needs)
    snapshot_id = new_id()
    published = MetricsSnapshotPublished(snapshot_id=snapshot_id, period=f"{day}", computed_at=moment)
    with runtime.unit_of_work() as uow:
        store.save_snapshot(uow.session, snapshot_id, moment, f"{label} {day}", body)
        uow.stage(published, time=moment)
    log.info("metrics snapshot %s stored (%s)", snapshot_id, label)
    return snapshot_id


class Listed(NamedTuple):
    """A stored snapshot in the dashboard's list of earlier ones."""

    snapshot_id: str
    label: str
    computed_at: datetime


@dataclass(frozen=True)
class Stored:
    """A stored snapshot as read: its metrics undisclosed (disclosure is the reader's)."""

    snapshot_id: str
    label: str
    computed_at: datetime
    content: dict[str, Any]

    @classmethod
    def of(cls, row: store.MetricsSnapshot) -> Stored:
        return cls(row.snapshot_id, row.label, row.computed_at, row.content())


class Analytics:
    """The use cases behind the API and the background jobs, over one runtime; snapshots are
    taken when `nightly_cron` fires (Copenhagen wall clock)."""

    def __init__(self, runtime: Runtime, nightly_cron: str) -> None:
        self.runtime = runtime
        self.nightly_cron = nightly_cron

    def metrics(self, period: Period, as_of: datetime | None = None) -> dict[str, Any]:
        """Undisclosed metrics for one period, from the projections as they are now."""
        moment = as_of or self.runtime.clock.now()
        with no_cyclic_gc():
            snapshot = self.runtime.read(lambda session: store.load_snapshot(session, moment))
            return compute(snapshot, period, moment)

    # ------------------------------------------------------------------ reading snapshots

    def snapshots(self, limit: int) -> list[Stored]:
        return self.runtime.read(lambda session: [Stored.of(row) for row in store.list_snapshots(session, limit)])

    def snapshot(self, snapshot_id: str) -> Stored | None:
        def read(session: Session) -> Stored | None:
            row = store.get_snapshot(session, snapshot_id)
            return Stored.of(row) if row is not None else None

        return self.runtime.read(read)

    def for_dashboard(self, snapshot_id: str | None) -> tuple[Stored | None, list[Listed]]:
        """The snapshot to show (the latest when no id is given; None when there is none) and
        the earlier ones to link to. Reads only: the dashboard never takes a snapshot itself."""

        def read(session: Session) -> tuple[Stored | None, list[Listed]]:
            row = store.get_snapshot(session, snapshot_id) if snapshot_id else store.latest_snapshot(session)
            history = [
                Listed(earlier.snapshot_id, earlier.label, earlier.computed_at)
                for earlier in store.list_snapshots(session, HISTORY)
            ]
            return (Stored.of(row) if row is not None else None), history

        return self.runtime.read(read)

    def next_nightly(self) -> datetime:
        return next_run(self.nightly_cron, self.runtime.clock.now())

    # ------------------------------------------------------------------ background jobs

    async def nightly(self, stop: asyncio.Event) -> None:
        """A snapshot each time the cron expression fires, until `stop` is set."""
        while not stop.is_set():
            due = self.next_nightly()
            wait = max(0.0, (due - self.runtime.clock.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
                return
            try:
                await asyncio.to_thread(take_snapshot, self.runtime, due)
            except Exception:
                log.exception("nightly snapshot failed; the next run will try again")

    async def demo_snapshot(self, stop: asyncio.Event) -> None:
        """Demo: the first snapshot as soon as the demo world's events have arrived."""
        await self.snapshot_when_data_arrives(stop)

    async def snapshot_when_data_arrives(
        self, stop: asyncio.Event, poll: float = 2.0, settle_polls: int = 2, give_up_after: float = 900.0
    ) -> str | None:
        """Once referrals have arrived and the flow has settled, take the first snapshot, so
        the dashboard shows the demo world without waiting for 02:00."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up_after
        last, stable = -1, 0
        while not stop.is_set() and loop.time() < deadline:
            count = await asyncio.to_thread(self.runtime.read, store.has_referrals)
            stable = stable + 1 if count and count == last else 0
            last = count
            if stable >= settle_polls:
                return await asyncio.to_thread(take_snapshot, self.runtime, None, "demo")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
        return None
