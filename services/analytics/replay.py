"""Rebuild: drop the projections and replay every context stream from its first message.

Reads with an ephemeral pull consumer (no acks, nothing left behind on the server) and
applies the events in batches through the same `projection.Changes` + `upsert.write` code as
the live consumers, so a rebuild gives the same projections and hence the same metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.analytics import store, upsert
from services.analytics.projection import Changes
from shared.bus import context_subjects, stream_name
from shared.db import Database
from shared.events import CONTEXTS, EventContractError, parse
from shared.nats_auth import operator_connect

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ReplayReport:
    events: int
    skipped: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def stream_size(nc: Client, context: str) -> int:
    try:
        info = await nc.jetstream().stream_info(stream_name(context))
    except NotFoundError:
        return 0
    return int(info.state.messages)


async def read_stream(nc: Client, context: str, batch: int = 2000, window: int = 50_000) -> AsyncIterator[list[bytes]]:
    """Every message body of a context's stream, oldest first, in batches.

    An ordered push consumer (ephemeral, no acks) reads several times faster with nats-py than
    pull fetches. Its callback must never block (a stalled push subscription drops messages
    as a slow consumer), so the stream is read in windows of `window` sequences, each window
    collected in memory and handed out before the next one is subscribed: memory stays
    bounded whatever the stream's size.
    """
    js = nc.jetstream()
    try:
        info = await js.stream_info(stream_name(context))
    except NotFoundError:
        return
    if not info.state.messages:
        return
    first, last = info.state.first_seq, info.state.last_seq
    while first <= last:
        upto = min(last, first + window - 1)
        bodies: list[bytes] = []
        done = asyncio.Event()

        async def collect(msg: Msg, upto: int = upto, bodies: list[bytes] = bodies, done: asyncio.Event = done) -> None:
            seq = msg.metadata.sequence.stream
            if seq <= upto:
                bodies.append(msg.data)
            if seq >= upto:
                done.set()

        sub = await js.subscribe(
            context_subjects(context),
            stream=stream_name(context),
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=first),
            cb=collect,
            pending_msgs_limit=window * 2,
            pending_bytes_limit=512 * 1024 * 1024,
        )
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=30.0)  # a deleted tail never arrives
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        for start in range(0, len(bodies), batch):
            yield bodies[start : start + batch]
        first = upto + 1


def apply_bodies(db: Database, bodies: list[bytes]) -> tuple[int, int]:
    """Parse and project one batch in one transaction: (applied, skipped as unreadable)."""
    changes = Changes()
    skipped = 0
    for body in bodies:
        try:
            envelope, event = parse(body)
        except EventContractError:
            skipped += 1  # the live consumer dead-letters these; a rebuild cannot do better
            continue
        changes.add_envelope(envelope, event)
    upsert.apply(db, changes)
    return len(bodies) - skipped, skipped


async def replay(db: Database, nc: Client, *, progress: Progress | None = None, batch: int = 2000) -> ReplayReport:
    """Apply every stream's events; reading the next batch overlaps writing the current one."""
    started = time.perf_counter()
    applied = skipped = 0
    queue: asyncio.Queue[list[bytes] | None] = asyncio.Queue(maxsize=4)

    async def produce() -> None:
        try:
            for context in CONTEXTS:
                async for bodies in read_stream(nc, context, batch):
                    await queue.put(bodies)
        finally:
            await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (bodies := await queue.get()) is not None:
            done, bad = await asyncio.to_thread(apply_bodies, db, bodies)
            applied += done
            skipped += bad
            if progress:
                progress(len(bodies))
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
    return ReplayReport(applied, skipped, time.perf_counter() - started)


async def rebuild(
    db: Database, nats_url: str, *, progress: Progress | None = None, total: Callable[[int], None] | None = None
) -> ReplayReport:
    """Drop the projections and replay every stream from the start."""
    db.create_schema(store.Base.metadata)
    nc = await operator_connect(nats_url)  # ephemeral consumers on every stream: the operator's
    try:
        if total:
            total(sum([await stream_size(nc, context) for context in CONTEXTS]))
        with db.transaction() as session:
            upsert.clear(session)
        return await replay(db, nc, progress=progress)
    finally:
        await nc.close()


async def read_rate(nats_url: str, batch: int = 2000) -> ReplayReport:
    """The ceiling for a rebuild: read every stream with the same reader and do nothing else."""
    nc = await operator_connect(nats_url)  # ephemeral consumers on every stream: the operator's
    started = time.perf_counter()
    count = 0
    try:
        for context in CONTEXTS:
            async for bodies in read_stream(nc, context, batch):
                count += len(bodies)
    finally:
        await nc.close()
    return ReplayReport(count, 0, time.perf_counter() - started)
