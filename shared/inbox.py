"""Idempotent consumers: each consumer records the event ids it has processed in the same
transaction as the effect, so a redelivered or replayed event has no second effect."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from shared.db import Database
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
        self.table = existing if existing is not None else Table(
            "inbox",
            metadata,
            Column("consumer", String(100), primary_key=True),
            Column("event_id", String(64), primary_key=True),
            Column("processed_at", DateTime(timezone=True), nullable=False),
        )

    def seen(self, session: Session, consumer: str, event_ids: Sequence[str]) -> set[str]:
        t = self.table
        found: set[str] = set()
        ids = list(event_ids)
        for start in range(0, len(ids), 500):  # keep IN lists within every dialect's limits
            chunk = ids[start : start + 500]
            found.update(
                session.scalars(select(t.c.event_id).where(t.c.consumer == consumer, t.c.event_id.in_(chunk)))
            )
        return found

    def record(self, session: Session, consumer: str, event_ids: Sequence[str]) -> None:
        if event_ids:
            now = datetime.now(UTC)
            session.execute(
                insert(self.table),
                [{"consumer": consumer, "event_id": eid, "processed_at": now} for eid in event_ids],
            )


def process_batch(
    db: Database,
    inbox: Inbox,
    consumer: str,
    bodies: Sequence[bytes],
    handlers: Mapping[type[Event], Handler],
) -> list[Outcome]:
    """Apply a batch of raw CloudEvents in one transaction; one outcome per body.

    Each event runs in a savepoint, so one failing event neither blocks nor undoes the others;
    the inbox rows of the processed ones commit with their effects.
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
        done: list[str] = []
        for i, envelope, event in parsed:
            if envelope.id in seen:
                outcomes[i] = Outcome("duplicate")
                continue
            handler = handlers.get(type(event))
            if handler is None:
                outcomes[i] = Outcome("ignored")
                continue
            try:
                with session.begin_nested():
                    handler(session, envelope, event)
            except PoisonEvent as exc:
                outcomes[i] = Outcome("poison", str(exc))
                continue
            except Exception as exc:
                log.warning("consumer %s failed on %s %s: %s", consumer, envelope.type, envelope.id, type(exc).__name__)
                outcomes[i] = Outcome("failed", f"{type(exc).__name__}: {exc}")
                continue
            seen.add(envelope.id)
            done.append(envelope.id)
            outcomes[i] = Outcome("processed")
        inbox.record(session, consumer, done)
    return [o or Outcome("failed", "not processed") for o in outcomes]
