"""Transactional outbox: the event is written in the same transaction as the state change,
and a relay publishes it to JetStream, marking it sent only after the PubAck.

A crash between commit and publish loses nothing: the row stays unsent and the relay sends
it on the next start. A crash after publish but before marking sent re-sends it with the same
`Nats-Msg-Id`, which JetStream drops as a duplicate.

Once `CitizenErased` has its PubAck, the relay purges that citizen's attribute-bearing
messages from the streams and the DLQ before it marks the row sent, so a failed purge is
retried with the row (shared/stream_retention.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import any_

from shared.bus import event_headers, purge_citizen
from shared.db import Database, UtcDateTime, insert_rows
from shared.events import Envelope
from shared.stream_retention import ERASURE_SUBJECT, message_ttl

log = logging.getLogger("vejviser.outbox")
GATHERING = "vejviser.outbox.gathering"  # session.info: the rows a `gathered` block holds back


@dataclass(frozen=True)
class Backlog:
    """What the relay still owes: rows waiting to be published (and since when), and rows set
    aside because they could not be published at all."""

    unsent: int
    oldest_unsent_at: datetime | None
    set_aside: int


class SetAside(NamedTuple):
    """An outbox dead letter: a row the relay could not publish, and why (never its payload)."""

    event_id: str
    subject: str
    failure: str
    failed_at: datetime


class Outbox:
    """The outbox table of one service (defined on that service's metadata)."""

    def __init__(self, metadata: MetaData) -> None:
        self.staged = 0
        existing = metadata.tables.get("outbox")
        self.table = (
            existing
            if existing is not None
            else Table(
                "outbox",
                metadata,
                Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
                Column("event_id", String(64), nullable=False, unique=True),
                Column("subject", String(200), nullable=False),
                Column("payload", LargeBinary, nullable=False),
                Column("created_at", UtcDateTime(), nullable=False),
                Column("sent_at", UtcDateTime(), nullable=True),
                # A row the relay could not publish however often it tried (too large for the
                # server, refused): set aside with the reason, so the rows after it flow.
                Column("failed_at", UtcDateTime(), nullable=True),
                Column("failure", String(500), nullable=True),
            )
        )
        if existing is None:
            # The relay's poll reads the unsent rows in position order; this index holds only
            # those, so the poll stays cheap however many sent rows the table keeps (on
            # PostgreSQL once statistics are fresh; docs/architecture.md, "Measured").
            unsent = self.table.c.sent_at.is_(None) & self.table.c.failed_at.is_(None)
            Index("ix_outbox_unsent", self.table.c.position, postgresql_where=unsent, sqlite_where=unsent)
            # Readiness and every metrics scrape count the rows set aside (`backlog`): without
            # this index that count read the whole table (52 ms at 200,000 sent rows, 0.1 ms with).
            aside = self.table.c.failed_at.is_not(None)
            Index("ix_outbox_set_aside", self.table.c.position, postgresql_where=aside, sqlite_where=aside)

    def add(self, session: Session, *envelopes: Envelope, payloads: Sequence[bytes] | None = None) -> None:
        """Stage events in the caller's transaction; they are published after it commits.
        `payloads`: each envelope's JSON (`Envelope.to_json`) where the caller has it."""
        if not envelopes:
            return
        self.staged += len(envelopes)  # a hint for waking the relay, not an exact count
        now = datetime.now(UTC)
        texts = payloads if payloads is not None else [env.to_json() for env in envelopes]
        rows = [
            {"event_id": env.id, "subject": env.nats_subject, "payload": text, "created_at": now}
            for env, text in zip(envelopes, texts, strict=True)
        ]
        gathering = session.info.get(GATHERING)
        if isinstance(gathering, list):
            gathering.extend(rows)
        else:
            insert_rows(session, self.table, rows)

    @contextlib.contextmanager
    def gathered(self, session: Session) -> Iterator[None]:
        """Hold back the rows staged in the block and write them in one statement at its end.

        A batch that derives an event per fact (an ingested referral lifts its referrer's
        readiness) otherwise paid one statement per event: on PostgreSQL a COPY of one row,
        a third of the ingestion's time. Open it inside the savepoint that holds the batch:
        an exception drops the rows together with everything else the savepoint undoes.
        Nothing may read the outbox inside the block (nothing does: the relay reads committed
        rows). A block inside another one leaves the writing to the outer.
        """
        if GATHERING in session.info:
            yield
            return
        rows: list[dict[str, object]] = []
        session.info[GATHERING] = rows
        try:
            yield
            insert_rows(session, self.table, rows)
        finally:
            session.info.pop(GATHERING, None)

    def pending(self, session: Session, limit: int) -> Sequence[tuple[int, str, str, bytes]]:
        t = self.table
        rows = session.execute(
            select(t.c.position, t.c.event_id, t.c.subject, t.c.payload)
            .where(t.c.sent_at.is_(None), t.c.failed_at.is_(None))
            .order_by(t.c.position)
            .limit(limit)
        ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def mark_sent(self, session: Session, positions: Sequence[int]) -> None:
        if not positions:
            return
        t = self.table
        now = datetime.now(UTC)
        if session.get_bind().dialect.name == "postgresql":  # one array parameter, not thousands
            ids = bindparam("positions", list(positions), type_=ARRAY(BigInteger()))
            session.execute(update(t).where(t.c.position == any_(ids)).values(sent_at=now))
            return
        for start in range(0, len(positions), 500):  # within SQLite's parameter limit
            chunk = list(positions[start : start + 500])
            session.execute(update(t).where(t.c.position.in_(chunk)).values(sent_at=now))

    def forget(self, session: Session, positions: Sequence[int]) -> None:
        """Delete sent rows at once: those that carry a citizen's attributes or score."""
        for start in range(0, len(positions), 500):
            session.execute(delete(self.table).where(self.table.c.position.in_(list(positions[start : start + 500]))))

    def purge_sent(self, session: Session, before: datetime) -> int:
        """Delete rows sent before `before`; unsent rows are never touched."""
        t = self.table
        result = session.execute(delete(t).where(t.c.sent_at.is_not(None), t.c.sent_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    def unsent_count(self, session: Session) -> int:
        """Rows still to be published (set-aside rows are not: the relay has given up on them)."""
        return self.backlog(session).unsent

    def backlog(self, session: Session) -> Backlog:
        t = self.table
        unsent, oldest = session.execute(
            select(func.count(), func.min(t.c.created_at)).where(t.c.sent_at.is_(None), t.c.failed_at.is_(None))
        ).one()
        set_aside = session.scalar(select(func.count()).select_from(t).where(t.c.failed_at.is_not(None)))
        return Backlog(unsent=int(unsent or 0), oldest_unsent_at=oldest, set_aside=int(set_aside or 0))

    def set_aside(self, session: Session) -> list[SetAside]:
        """The rows set aside, oldest first."""
        t = self.table
        rows = session.execute(
            select(t.c.event_id, t.c.subject, t.c.failure, t.c.failed_at)
            .where(t.c.failed_at.is_not(None))
            .order_by(t.c.position)
        ).all()
        return [SetAside(r[0], r[1], r[2] or "", r[3]) for r in rows]

    def mark_failed(self, session: Session, failures: Sequence[tuple[int, str]]) -> None:
        """Set rows aside: (position, reason); the reason is cut to the column's width."""
        now = datetime.now(UTC)
        for position, reason in failures:
            session.execute(
                update(self.table).where(self.table.c.position == position).values(failed_at=now, failure=reason[:500])
            )


class OutboxRelay:
    """Publishes unsent outbox rows in order, in pipelined batches, until stopped."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        js: JetStreamContext,
        *,
        batch_size: int = 500,
        interval: float = 0.5,
        ack_timeout: float = 5.0,
        retention: timedelta | None = None,
        purge_every: float = 3600.0,
    ) -> None:
        self.ack_timeout = ack_timeout
        self.retention = retention
        self.purge_every = purge_every
        self._next_purge = 0.0
        self.db = db
        self.outbox = outbox
        self.js = js
        self.batch_size = batch_size
        self.interval = interval
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def notify(self) -> None:
        """Wake the relay after a commit; safe to call from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows it settled (sent, or set aside).

        Order holds while the bus is away: the first row without a PubAck ends the round and
        the rest wait. A row that cannot be published because of the row itself (larger than
        the server takes, refused by JetStream) is set aside with the reason instead, and the
        rows after it go on: one poison row must not stop the bus.
        """
        rows = await asyncio.to_thread(self._pending)
        if not rows:
            return 0
        limit = _max_payload(self.js)
        outcomes: list[asyncio.Future[Any] | str] = []  # the PubAck to come, or why it cannot be published
        for _pos, event_id, subject, payload in rows:
            headers = event_headers(event_id, subject)
            refusal = _too_large(payload, headers, limit)
            if refusal is None:
                try:
                    outcomes.append(await self.js.publish_async(subject, payload, headers=headers))
                    continue
                except (nats.errors.MaxPayloadError, nats.errors.BadSubjectError, nats.errors.BadHeaderError) as exc:
                    refusal = _refused(exc)
            outcomes.append(refusal)
        futures = [outcome for outcome in outcomes if not isinstance(outcome, str)]
        if futures:  # bounded wait: while NATS is away no PubAck comes, and the rows must stay unsent
            await asyncio.wait(futures, timeout=self.ack_timeout)
        acked: list[int] = []
        forget: list[int] = []
        failed: list[tuple[int, str]] = []
        probed = False
        for (pos, event_id, subject, payload), outcome in zip(rows, outcomes, strict=True):
            refusal = outcome if isinstance(outcome, str) else _refusal_of(outcome)
            sent = refusal is None and _acked(outcome)
            if refusal is None and not sent and not probed:
                probed = True  # once a round: it waits, and only a connected client can be told
                refusal, sent = await self._probe(event_id, subject, payload)
            if refusal is not None:
                log.warning("outbox: event %s set aside, it cannot be published: %s", event_id, refusal)
                failed.append((pos, refusal))
                continue
            if not sent:
                log.warning("no PubAck for %s yet; it stays in the outbox", event_id)
                break  # keep order: the rest waits for the next round
            if subject == ERASURE_SUBJECT and not await self._purge_erased(event_id, payload):
                break  # sent again next round (a duplicate then), and purged again
            # A message that expires on the bus (a citizen's attributes, a score) leaves no
            # copy in the outbox either: a backup taken before an erasure must not hold it.
            (forget if message_ttl(subject) else acked).append(pos)
        for future in futures:
            if not future.done():
                future.cancel()
        await asyncio.to_thread(self._settle, acked, forget, failed)
        return len(acked) + len(forget) + len(failed)

    async def _probe(self, event_id: str, subject: str, payload: bytes) -> tuple[str | None, bool]:
        """Publish one row that had no PubAck on its own, waiting for the answer: JetStream's
        refusal of a pipelined publish never reaches its future (nats-py raises it in the
        reply handler instead), but it does reach a plain publish. (refusal, sent)."""
        connection = getattr(self.js, "_nc", None)
        if connection is None or not connection.is_connected:
            return None, False
        try:
            await self.js.publish(subject, payload, timeout=self.ack_timeout, headers=event_headers(event_id, subject))
        except Exception as exc:
            return _refusal_of_error(exc), False
        return None, True

    async def _purge_erased(self, event_id: str, payload: bytes) -> bool:
        try:
            await purge_citizen(self.js, str(json.loads(payload)["data"]["citizen_ref"]))
        except Exception as exc:  # NATS away: the row stays unsent and the purge is retried
            log.warning("purge after %s failed: %s; retried", event_id, type(exc).__name__)
            return False
        return True

    def _pending(self) -> Sequence[tuple[int, str, str, bytes]]:
        with self.db.read() as session:  # a poll must not queue behind (or block) writers
            return self.outbox.pending(session, self.batch_size)

    def _settle(self, positions: list[int], forget: list[int], failed: list[tuple[int, str]]) -> None:
        with self.db.transaction() as session:
            self.outbox.mark_sent(session, positions)
            self.outbox.forget(session, forget)
            self.outbox.mark_failed(session, failed)

    async def purge_if_due(self) -> int:
        """Delete sent rows older than the retention, at most once per `purge_every`."""
        loop = asyncio.get_running_loop()
        if self.retention is None or loop.time() < self._next_purge:
            return 0
        self._next_purge = loop.time() + self.purge_every
        cutoff = datetime.now(UTC) - self.retention
        purged = await asyncio.to_thread(self._purge, cutoff)
        if purged:
            log.info("outbox: deleted %d rows sent before %s", purged, cutoff.isoformat(timespec="seconds"))
        return purged

    def _purge(self, cutoff: datetime) -> int:
        with self.db.transaction() as session:
            return self.outbox.purge_sent(session, cutoff)

    async def drain(self) -> int:
        total = 0
        while sent := await self.relay_once():
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                sent = await self.relay_once()
                await self.purge_if_due()
            except Exception as exc:  # NATS or DB blip: retry after the interval
                log.warning("outbox relay: %s: %s", type(exc).__name__, exc)
                sent = 0
            if sent == self.batch_size:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)


# ------------------------------------------------------------------ why a row cannot be published

# Errors that say the bus is away or slow, not that this row is wrong: the row waits, in order.
_PASSING = (
    asyncio.TimeoutError,
    OSError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.StaleConnectionError,
    nats.errors.NoServersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.OutboundBufferLimitError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.TooManyStalledMsgsError,
)


def _acked(outcome: asyncio.Future[Any] | str) -> bool:
    return (
        isinstance(outcome, asyncio.Future)
        and outcome.done()
        and not outcome.cancelled()
        and outcome.exception() is None
    )


def _refusal_of(future: asyncio.Future[Any]) -> str | None:
    if not future.done() or future.cancelled():
        return None
    error = future.exception()
    return None if error is None else _refusal_of_error(error)


def _refusal_of_error(error: BaseException) -> str | None:
    """Why the row itself cannot be published, or None when the error passes (retry in order)."""
    if isinstance(error, nats.js.errors.APIError):
        # JetStream's own answer: a server trouble (5xx) passes; a refusal of this message does not.
        return None if error.code is None or error.code >= 500 else _refused(error)
    if isinstance(error, _PASSING):
        return None
    return _refused(error)


def _refused(error: BaseException) -> str:
    """The reason kept with a set-aside row: the error's kind and the server's words, never
    the payload."""
    if isinstance(error, nats.js.errors.APIError):
        return f"JetStream refused it: {error.description} (code {error.code}, error {error.err_code})"[:500]
    if isinstance(error, nats.errors.MaxPayloadError):
        return "larger than the server's max_payload"
    return f"publish failed: {type(error).__name__}"


def _max_payload(js: JetStreamContext) -> int | None:
    """The largest message the server takes (its last INFO's max_payload)."""
    connection = getattr(js, "_nc", None)
    return int(connection.max_payload) if connection is not None else None


def _too_large(payload: bytes, headers: dict[str, str], limit: int | None) -> str | None:
    # The server counts the headers too (a message over its limit closes the connection), and
    # the client's own check raises only after it has taken a slot it never gives back.
    if limit is None:
        return None
    size = len(payload) + len("NATS/1.0\r\n\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in headers.items())
    if size <= limit:
        return None
    return f"{size} bytes with its headers, more than the server's max_payload of {limit} bytes"
