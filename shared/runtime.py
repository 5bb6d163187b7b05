"""The runtime every service composes: database, broker, outbox relay, inbox consumers and
the dead-letter keeper, started and stopped together.

A service's `main.py` builds one `Runtime`, registers its consumers with `consume()`, does
its writes in `unit_of_work()` (or `write()`/`read()`), and hands the runtime to
`create_app()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from faststream.nats import NatsBroker
from nats.aio.client import Client
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from shared.bus import (
    ConsumerPolicy,
    Delivery,
    PullConsumer,
    Verdict,
    ensure_streams,
    make_broker,
    run_dead_letter_keeper,
    stream_name,
)
from shared.clock import Clock, SystemClock
from shared.db import Database
from shared.events import Event
from shared.inbox import AnyHandler, Inbox, Outcome, Status, process_batch
from shared.lease import lease_for
from shared.observability import observe
from shared.outbox import Outbox, OutboxRelay
from shared.settings import Settings
from shared.uow import UnitOfWork

R = TypeVar("R")


@dataclass(frozen=True)
class Subscription:
    """One durable consumer of a service: the context it reads, its name (`<service>-<name>`;
    renaming it re-reads the stream under a fresh inbox), and a handler per event type."""

    context: str
    name: str
    handlers: Mapping[type[Event], AnyHandler]


log = logging.getLogger("vejviser.runtime")


def verdict_for(outcome: Outcome) -> Verdict:
    if outcome.status is Status.failed:
        return Verdict.retry(outcome.reason)
    if outcome.status is Status.poison:
        return Verdict.poison(outcome.reason)
    return Verdict.ack()


class Runtime:
    def __init__(self, settings: Settings, metadata: MetaData, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.metadata = metadata
        self.outbox = Outbox(metadata)
        self.inbox = Inbox(metadata)
        self.db = Database(settings.database_url)
        user, password = settings.nats_credentials() or (None, None)  # None: a server without users
        self.broker: NatsBroker = make_broker(settings.nats_url, name=settings.service, user=user, password=password)
        self.policy = ConsumerPolicy(
            max_deliver=settings.max_deliver,
            backoff=list(settings.retry_backoff_seconds),
            batch_size=settings.fetch_batch,
            fetch_timeout=settings.consumer_fetch_seconds,
        )
        self.relay: OutboxRelay | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.consumers: list[PullConsumer] = []
        # What this service reads, for the AsyncAPI document: (durable, context, event types).
        self.consumed: list[tuple[str, str, tuple[type[Event], ...]]] = []

    # ------------------------------------------------------------------ units of work

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One transaction: commits on success, rolls back on any exception; the events it
        staged reach the outbox in it, and the relay is woken once the commit holds."""
        with self.db.transaction() as session:
            uow = self.joining(session)
            yield uow
        if uow.staged:
            self.committed()

    def joining(self, session: Session) -> UnitOfWork:
        """A unit of work inside a transaction someone else owns: a consumer's handler, whose
        batch the inbox commits together with its claims (the relay is woken after it)."""
        return UnitOfWork(session, self.outbox, source=self.settings.source, clock=self.clock)

    def write(self, work: Callable[[UnitOfWork], R]) -> R:
        with self.unit_of_work() as uow:
            return work(uow)

    def read(self, work: Callable[[Session], R]) -> R:
        """A read-only unit: on SQLite it never waits behind (or blocks) a writer."""
        with self.db.read() as session:
            return work(session)

    def committed(self) -> None:
        """Tell the relay that new outbox rows are committed (saves up to one poll interval)."""
        if self.relay is not None:
            self.relay.notify()

    # ------------------------------------------------------------------ reading events

    def consume(
        self,
        context: str,
        name: str,
        handlers: Mapping[type[Event], AnyHandler],
        *,
        after_batch: Callable[[], None] | None = None,
    ) -> str:
        """Register an idempotent durable consumer `<service>-<name>` on a context's stream."""
        durable = f"{self.settings.service}-{name}"

        async def handle(deliveries: list[Delivery]) -> list[Verdict]:
            bodies = [d.msg.data for d in deliveries]
            staged = self.outbox.staged
            outcomes = await asyncio.to_thread(process_batch, self.db, self.inbox, durable, bodies, handlers)
            if self.outbox.staged != staged:  # only wake the relay when the batch made events
                self.committed()
            if after_batch is not None and any(o.status is Status.processed for o in outcomes):
                after_batch()
            return [verdict_for(o) for o in outcomes]

        self.consumers.append(
            PullConsumer(
                durable=durable,
                context=context,
                handle=handle,
                policy=self.policy,
                lease=lease_for(self.settings.database_url, durable),
                standby_seconds=self.settings.consumer_standby_seconds,
            )
        )
        self.consumed.append((durable, context, tuple(handlers)))
        return durable

    def subscribe(
        self, subscriptions: Iterable[Subscription], *, after_batch: Callable[[], None] | None = None
    ) -> None:
        """Register a service's `consumers.HANDLERS`."""
        for sub in subscriptions:
            self.consume(sub.context, sub.name, sub.handlers, after_batch=after_batch)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await asyncio.to_thread(self.db.create_schema, self.metadata)  # migrates to head: shared/migrations.py
        await self.broker.connect()
        js = self.broker.connection.jetstream()
        await ensure_streams(js, self.settings.stream_replicas)
        hours = self.settings.outbox_retention_hours
        self.relay = OutboxRelay(
            self.db,
            self.outbox,
            js,
            interval=self.settings.relay_interval_seconds,
            batch_size=self.settings.relay_batch,
            retention=timedelta(hours=hours) if hours > 0 else None,
        )
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.relay.run(self._stop), name="outbox-relay"),
            asyncio.create_task(
                run_dead_letter_keeper(
                    self.broker.connection,
                    self._stop,
                    service=self.settings.service,
                    consumers=[(stream_name(c.context), c.durable) for c in self.consumers],
                    fetch_timeout=self.policy.fetch_timeout,
                ),
                name="dlq-keeper",
            ),
        ]
        self._tasks += [
            asyncio.create_task(c.run(self.broker.connection, self._stop), name=c.durable) for c in self.consumers
        ]
        await self.broker.start()

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self._tasks = []
        try:
            await self.broker.stop()
        except Exception:  # NATS already gone (e.g. reconnecting): drain is impossible, close
            with contextlib.suppress(Exception):
                await self.broker.connection.close()
        self.db.dispose()

    def bus_connection(self) -> Client | None:
        """The NATS connection while it is up, else None (not started, reconnecting, closed)."""
        try:
            nc = self.broker.connection
        except Exception:  # FastStream raises before the broker has connected
            return None
        return nc if nc is not None and nc.is_connected else None

    async def ready(self) -> dict[str, bool]:
        """The readiness checks (database, nats, outbox), as `/readyz` answers them."""
        return (await observe(self, on_bus=True)).checks
