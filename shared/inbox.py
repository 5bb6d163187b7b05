"""Idempotent consumers: each consumer records the event ids it has processed in the same
transaction as the effect, so a redelivered or replayed event has no second effect."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Connection, MetaData, String, Table
from sqlalchemy.orm import Session

from shared.db import Database, UtcDateTime
from shared.events import Envelope, Event, EventContractError, parse

log = logging.getLogger("vejviser.inbox")

Handler = Callable[[Session, Envelope, Event], None]


class PoisonEvent(Exception):
    """Raised by a handler for an event that can never be processed (retrying is useless)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # "processed" | "duplicate" | "ignored" | "failed" | "poison"
    reason: str = ""


class Inbox:
    def __init__(self, metadata: MetaData) -> None:
        existing = metadata.tables.get("inbox")
        self.table = (
            existing
            if existing is not None
            else Table(
                "inbox",
                metadata,
                Column("consumer", String(100), primary_key=True),
                Column("event_id", String(64), primary_key=True),
                Column("processed_at", UtcDateTime(), nullable=False),
            )
        )

    # Both statements run on the DB-API cursor: they are on every consumer's hot path, and
    # SQLAlchemy's per-row parameter processing cost about 5 µs an event (bench/backbone.py).

    def seen(self, session: Session, consumer: str, event_ids: Sequence[str]) -> set[str]:
        conn = session.connection()
        mark = _placeholder(conn)
        found: set[str] = set()
        ids = list(event_ids)
        for start in range(0, len(ids), 500):  # keep IN lists within every dialect's limits
            chunk = ids[start : start + 500]
            sql = (
                f"SELECT event_id FROM {self.table.name} "
                f"WHERE consumer = {mark} AND event_id IN ({', '.join([mark] * len(chunk))})"
            )
            found.update(row[0] for row in conn.exec_driver_sql(sql, (consumer, *chunk)))
        return found

    def record(self, session: Session, consumer: str, event_ids: Sequence[str]) -> None:
        if not event_ids:
            return
        conn = session.connection()
        mark = _placeholder(conn)
        processed_at = self.table.c.processed_at.type.bind_processor(conn.dialect)
        now: object = datetime.now(UTC)
        if processed_at is not None:
            now = processed_at(now)  # once per batch, not once per row
        conn.exec_driver_sql(
            f"INSERT INTO {self.table.name} (consumer, event_id, processed_at) VALUES ({mark}, {mark}, {mark})",
            [(consumer, event_id, now) for event_id in event_ids],
        )


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


Pair = tuple[Envelope, Event]


@dataclass(frozen=True)
class Batched:
    """A handler that takes a run of consecutive events of one type at once (bulk inserts)."""

    fn: Callable[[Session, list[Pair]], None]
    __name__: str = "batched"


def batched(fn: Callable[[Session, list[Pair]], None]) -> Batched:
    return Batched(fn, getattr(fn, "__name__", "batched"))


AnyHandler = Handler | Batched


def _apply(session: Session, handler: AnyHandler, pairs: list[Pair]) -> None:
    if isinstance(handler, Batched):
        handler.fn(session, pairs)
    else:
        for envelope, event in pairs:
            handler(session, envelope, event)


def _runs(
    items: list[tuple[int, Envelope, Event, AnyHandler]],
) -> list[tuple[AnyHandler, list[tuple[int, Envelope, Event]]]]:
    runs: list[tuple[AnyHandler, list[tuple[int, Envelope, Event]]]] = []
    for index, envelope, event, handler in items:
        if runs and runs[-1][0] is handler:
            runs[-1][1].append((index, envelope, event))
        else:
            runs.append((handler, [(index, envelope, event)]))
    return runs


def process_batch(
    db: Database,
    inbox: Inbox,
    consumer: str,
    bodies: Sequence[bytes],
    handlers: Mapping[type[Event], AnyHandler],
) -> list[Outcome]:
    """Apply a batch of raw CloudEvents in one transaction; one outcome per body.

    Fast path: the whole batch in one savepoint (bulk handlers get runs of events). If any
    event fails, that savepoint is rolled back and the batch is applied event by event, each in
    its own savepoint, so one failing event neither blocks nor undoes the others. The inbox
    rows of the processed events commit with their effects.
    """
    outcomes: list[Outcome | None] = [None] * len(bodies)
    parsed: list[tuple[int, Envelope, Event]] = []
    for i, body in enumerate(bodies):
        try:
            envelope, event = parse(body)
        except EventContractError as exc:
            outcomes[i] = Outcome("poison", str(exc))
            continue
        parsed.append((i, envelope, event))

    with db.transaction() as session:
        seen = inbox.seen(session, consumer, [env.id for _, env, _ in parsed])
        todo: list[tuple[int, Envelope, Event, AnyHandler]] = []
        for i, envelope, event in parsed:
            handler = handlers.get(type(event))
            if envelope.id in seen:
                outcomes[i] = Outcome("duplicate")
            elif handler is None:
                outcomes[i] = Outcome("ignored")
            else:
                seen.add(envelope.id)  # a second copy inside the same batch is a duplicate
                todo.append((i, envelope, event, handler))
        try:
            with session.begin_nested():
                for handler, run in _runs(todo):
                    _apply(session, handler, [(env, ev) for _, env, ev in run])
            done = [env.id for _, env, _, _ in todo]
            for i, _env, _ev, _h in todo:
                outcomes[i] = Outcome("processed")
        except Exception:
            done = _one_by_one(session, consumer, todo, outcomes)
        inbox.record(session, consumer, done)
    return [o or Outcome("failed", "not processed") for o in outcomes]


def _one_by_one(
    session: Session,
    consumer: str,
    todo: list[tuple[int, Envelope, Event, AnyHandler]],
    outcomes: list[Outcome | None],
) -> list[str]:
    done: list[str] = []
    for i, envelope, event, handler in todo:
        try:
            with session.begin_nested():
                _apply(session, handler, [(envelope, event)])
        except PoisonEvent as exc:
            outcomes[i] = Outcome("poison", str(exc))
            continue
        except Exception as exc:
            log.warning("consumer %s failed on %s %s: %s", consumer, envelope.type, envelope.id, type(exc).__name__)
            outcomes[i] = Outcome("failed", f"{type(exc).__name__}: {exc}")
            continue
        done.append(envelope.id)
        outcomes[i] = Outcome("processed")
    return done
