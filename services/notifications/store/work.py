"""The work and what people set: nudges, deliveries, preferences, webhooks.

Deciding reads these for a whole batch at once (dedup keys, preferences, today's tally,
webhooks) and writes nudges and deliveries in one statement each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

from sqlalchemy import Date, Table, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from services.notifications.domain import PERSONAL_CHANNELS
from services.notifications.routing import Preferences, parse_clock_time
from services.notifications.store.bulk import chunks, insert_many
from services.notifications.store.tables import Base, DeliveryRow, NudgeRow, PreferenceRow, TimerRow, WebhookRow
from shared.db import among

NUDGE: Table = Base.metadata.tables["nudge"]
DELIVERY: Table = Base.metadata.tables["delivery"]
PREFERENCE: Table = Base.metadata.tables["preference"]
WEBHOOK: Table = Base.metadata.tables["webhook"]
TALLY: Table = Base.metadata.tables["personal_tally"]


# ---------------------------------------------------------------------------- deciding


def existing_dedup_keys(session: Session, keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(keys):
        found.update(session.scalars(select(NUDGE.c.dedup_key).where(among(session, NUDGE.c.dedup_key, chunk))))
    return found


def _preferences(row: PreferenceColumns) -> Preferences:
    return Preferences(
        channels=frozenset(row.channels),
        opted_out=frozenset(row.opted_out),
        quiet_start=_time(row.quiet_start),
        quiet_end=_time(row.quiet_end),
        daily_cap=row.daily_cap,
        paused_until=row.paused_until,
    )


class PreferenceColumns(Protocol):
    channels: list[str]
    opted_out: list[str]
    quiet_start: str | None
    quiet_end: str | None
    daily_cap: int
    paused_until: datetime | None


def _time(text: str | None) -> time | None:
    return parse_clock_time(text) if text else None


def preferences_of(session: Session, recipient_ids: Iterable[str]) -> dict[str, Preferences]:
    """The preferences people have set (those who have not are left out)."""
    found: dict[str, Preferences] = {}
    for chunk in chunks(recipient_ids):
        query = select(
            PREFERENCE.c.recipient_id,
            PREFERENCE.c.channels,
            PREFERENCE.c.opted_out,
            PREFERENCE.c.quiet_start,
            PREFERENCE.c.quiet_end,
            PREFERENCE.c.daily_cap,
            PREFERENCE.c.paused_until,
        ).where(among(session, PREFERENCE.c.recipient_id, chunk))
        for row in session.execute(query):
            found[row.recipient_id] = _preferences(row)
    return found


def preferences(session: Session, recipient_id: str, default: Preferences) -> Preferences:
    return preferences_of(session, [recipient_id]).get(recipient_id, default)


def personal_tally(session: Session, recipient_ids: Iterable[str], day: date) -> dict[str, int]:
    """E-mails and SMS decided for each recipient on `day` (the daily cap counts them)."""
    counts: dict[str, int] = {}
    for chunk in chunks(recipient_ids):
        query = select(TALLY.c.recipient_id, TALLY.c.deliveries).where(
            TALLY.c.day == day, among(session, TALLY.c.recipient_id, chunk)
        )
        counts.update({recipient: int(count) for recipient, count in session.execute(query).tuples()})
    return counts


def add_to_tally(session: Session, day: date, counts: Mapping[str, int]) -> None:
    """Add the batch's e-mails and SMS to the day's tally: one statement, the counts as one
    JSON object (staging them cost a COPY and a round trip more a batch). Rows are taken in
    key order, so two replicas adding to the same rows lock them in one order."""
    counts = {recipient: n for recipient, n in counts.items() if n}
    if not counts:
        return
    postgresql = session.get_bind().dialect.name == "postgresql"
    each = "jsonb_each_text(CAST(:counts AS JSONB))" if postgresql else "json_each(:counts)"
    session.execute(
        text(
            "INSERT INTO personal_tally (day, recipient_id, deliveries) "
            f"SELECT :day, key, CAST(value AS INTEGER) FROM {each} WHERE true ORDER BY key "
            "ON CONFLICT (day, recipient_id) DO UPDATE "
            "SET deliveries = personal_tally.deliveries + EXCLUDED.deliveries"
        ).bindparams(bindparam("day", type_=Date)),
        {"day": day, "counts": json.dumps(counts)},
    )


def forget_tally_before(session: Session, day: date) -> None:
    session.execute(delete(TALLY).where(TALLY.c.day < day))


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    rules: frozenset[str]  # empty: every rule

    def wants(self, rule: str) -> bool:
        return not self.rules or rule in self.rules


def active_webhooks(session: Session) -> list[Webhook]:
    query = select(WEBHOOK.c.id, WEBHOOK.c.url, WEBHOOK.c.rules).where(WEBHOOK.c.active.is_(True))
    return [Webhook(row.id, row.url, frozenset(row.rules)) for row in session.execute(query)]


def insert_nudges(session: Session, rows: Sequence[Mapping[str, object]]) -> set[str]:
    """Insert messages; a dedup key taken meanwhile (a concurrent decision) keeps the first.
    Returns the ids actually inserted."""
    return {str(nudge_id) for nudge_id in insert_many(session, NUDGE, rows, "dedup_key", returning="id")}


def insert_unique_nudges(session: Session, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert messages whose dedup keys no other decision can have taken (about a referral
    created in this transaction)."""
    insert_many(session, NUDGE, rows)


def insert_deliveries(session: Session, rows: Sequence[Mapping[str, object]]) -> None:
    insert_many(session, DELIVERY, rows)


# ---------------------------------------------------------------------------- delivering


def claim_due_deliveries(session: Session, now: datetime, lease_until: datetime, limit: int = 50) -> list[DeliveryRow]:
    """Take due deliveries for this worker: the lease keeps others (and a restart) off them
    until it ends, so a worker that dies mid-send is retried once the lease is over."""
    query = (
        select(DeliveryRow)
        .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
        .order_by(DeliveryRow.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = lease_until
    return rows


def pending_personal_deliveries(session: Session, recipient_id: str) -> list[DeliveryRow]:
    """A recipient's e-mails and SMS not sent yet (a pause or new quiet hours move them)."""
    query = (
        select(DeliveryRow)
        .join(NudgeRow, NudgeRow.id == DeliveryRow.nudge_id)
        .where(
            NudgeRow.recipient_id == recipient_id,
            DeliveryRow.status == "pending",
            DeliveryRow.channel.in_(PERSONAL_CHANNELS),
        )
    )
    return list(session.scalars(query))


def unsettled_deliveries(session: Session, nudge_id: str) -> int:
    query = select(func.count()).select_from(DeliveryRow)
    return int(session.scalar(query.where(DeliveryRow.nudge_id == nudge_id, DeliveryRow.status == "pending")) or 0)


# ---------------------------------------------------------------------------- listing


def nudges(
    session: Session, *, status: str | None = None, recipients: Sequence[str] | None = None, limit: int = 200
) -> list[NudgeRow]:
    query = select(NudgeRow).order_by(NudgeRow.created_at.desc(), NudgeRow.id).limit(limit)
    if status is not None:
        query = query.where(NudgeRow.status == status)
    if recipients is not None:
        query = query.where(NudgeRow.recipient_id.in_(list(recipients)))
    return list(session.scalars(query))


def mark_answered(session: Session, subjects: Sequence[str], rules: Sequence[str], now: datetime) -> None:
    """Questions that were answered (elsewhere: a link, the referral page) leave everyone's
    unread count: the question, its reminder and the word to the guides."""
    for part in chunks(list(subjects)):
        session.execute(
            update(NudgeRow)
            .where(NudgeRow.subject_id.in_(part), NudgeRow.rule.in_(list(rules)), NudgeRow.read_at.is_(None))
            .values(read_at=now)
        )


def unread_count(session: Session, recipients: Sequence[str]) -> int:
    query = select(func.count()).select_from(NudgeRow)
    query = query.where(NudgeRow.recipient_id.in_(list(recipients)), NudgeRow.read_at.is_(None))
    return int(session.scalar(query) or 0)


def timers(session: Session, *, status: str, limit: int = 200) -> list[TimerRow]:
    query = select(TimerRow).where(TimerRow.status == status).order_by(TimerRow.due_at, TimerRow.id)
    return list(session.scalars(query.limit(limit)))


def webhooks(session: Session, owner_id: str | None = None) -> list[WebhookRow]:
    """Webhooks in order of creation: one owner's, or (None) everyone's."""
    query = select(WebhookRow).order_by(WebhookRow.created_at)
    if owner_id is not None:
        query = query.where(WebhookRow.owner_id == owner_id)
    return list(session.scalars(query))


def deliveries_of_webhook(session: Session, webhook_id: str, status: str | None = None) -> list[DeliveryRow]:
    query = select(DeliveryRow).where(DeliveryRow.webhook_id == webhook_id).order_by(DeliveryRow.created_at)
    if status:
        query = query.where(DeliveryRow.status == status)
    return list(session.scalars(query))


def is_empty(session: Session) -> bool:
    return (
        session.scalar(select(func.count()).select_from(NudgeRow)) == 0
        and session.scalar(select(func.count()).select_from(PreferenceRow)) == 0
    )
