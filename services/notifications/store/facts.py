"""The directory (recipients, communities, referrals) and the timers, read and written in bulk:
a batch of events reads what it touches in one query per table and writes its changes in one
statement per table (a query per event cost more than the rules themselves)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, bindparam, select, update
from sqlalchemy.orm import Session

from services.notifications.domain import Community, Recipient, Referral
from services.notifications.store.bulk import chunks, insert_many
from services.notifications.store.tables import Base
from shared.db import among

RECIPIENT: Table = Base.metadata.tables["recipient"]
COMMUNITY: Table = Base.metadata.tables["community"]
REFERRAL: Table = Base.metadata.tables["referral"]
TIMER: Table = Base.metadata.tables["timer"]


# ---------------------------------------------------------------------------- reading


def referrals(session: Session, ids: Iterable[str]) -> dict[str, Referral]:
    found: dict[str, Referral] = {}
    for chunk in chunks(ids):
        for row in session.execute(select(REFERRAL).where(among(session, REFERRAL.c.referral_id, chunk))):
            found[row.referral_id] = Referral(**row._mapping)
    return found


def recipients(session: Session, ids: Iterable[str]) -> dict[str, Recipient]:
    found: dict[str, Recipient] = {}
    for chunk in chunks(ids):
        for row in session.execute(select(RECIPIENT).where(among(session, RECIPIENT.c.actor_id, chunk))):
            found[row.actor_id] = Recipient(**row._mapping)
    return found


def communities(session: Session, ids: Iterable[str]) -> dict[str, Community]:
    found: dict[str, Community] = {}
    for chunk in chunks(ids):
        for row in session.execute(select(COMMUNITY).where(among(session, COMMUNITY.c.community_id, chunk))):
            found[row.community_id] = Community(**row._mapping)
    return found


def directory(session: Session) -> list[Recipient]:
    return [Recipient(**row._mapping) for row in session.execute(select(RECIPIENT).order_by(RECIPIENT.c.actor_id))]


def communities_in_area(session: Session, area: str | None) -> list[Community]:
    if area is None:
        return []
    return [Community(**row._mapping) for row in session.execute(select(COMMUNITY).where(COMMUNITY.c.area == area))]


def referral_ids_of_citizens(session: Session, citizen_refs: Iterable[str]) -> list[str]:
    """Every referral we know of for these citizens (to erase them)."""
    found: list[str] = []
    for chunk in chunks(citizen_refs):
        found += session.scalars(select(REFERRAL.c.referral_id).where(REFERRAL.c.citizen_ref.in_(chunk)))
    return found


def referrals_of(session: Session, referrer_id: str) -> list[Referral]:
    rows = session.execute(select(REFERRAL).where(REFERRAL.c.referrer_id == referrer_id))
    return [Referral(**row._mapping) for row in rows]


# ---------------------------------------------------------------------------- timers


@dataclass(slots=True)
class TimerRecord:
    """A durable timer as a batch reads and changes it (`id` None: not stored yet)."""

    rule: str
    subject_id: str
    referral_id: str | None
    due_at: datetime
    status: str  # scheduled | fired | cancelled
    created_at: datetime
    settled_at: datetime | None = None
    id: int | None = None
    changed: bool = False


def _timers(
    session: Session, where: ColumnElement[bool], *, lock: bool = False, limit: int | None = None
) -> list[TimerRecord]:
    query = select(TIMER).where(where).order_by(TIMER.c.due_at, TIMER.c.id)
    if limit is not None:
        query = query.limit(limit)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [TimerRecord(**row._mapping) for row in session.execute(query)]


def timers_of(session: Session, subject_ids: Iterable[str]) -> list[TimerRecord]:
    """Every timer (any status) about these subjects: referral ids and actor ids."""
    found = (_timers(session, among(session, TIMER.c.subject_id, chunk)) for chunk in chunks(subject_ids))
    return [record for records in found for record in records]


def due_timers(session: Session, now: datetime, limit: int = 200) -> list[TimerRecord]:
    """Scheduled timers due by `now`, locked for this transaction (others skip them)."""
    return _timers(session, (TIMER.c.status == "scheduled") & (TIMER.c.due_at <= now), lock=True, limit=limit)


# ---------------------------------------------------------------------------- writing


def _values(record: object) -> dict[str, object]:
    return dict(vars(record))


def save(
    session: Session,
    table: Table,
    key: str,
    new: Sequence[Mapping[str, object]],
    changed: Sequence[Mapping[str, object]],
) -> None:
    """Insert the new rows and overwrite the changed ones (this consumer is their one writer)."""
    insert_many(session, table, new)
    if changed:
        params = [{**{k: v for k, v in row.items() if k != key}, "match_key": row[key]} for row in changed]
        session.execute(update(table).where(table.c[key] == bindparam("match_key")), params)


def save_facts(
    session: Session,
    referrals: tuple[Sequence[Referral], Sequence[Referral]],
    recipients: tuple[Sequence[Recipient], Sequence[Recipient]],
    communities: tuple[Sequence[Community], Sequence[Community]],
) -> None:
    """Each pair is (new, changed)."""
    for table, key, (new, changed) in (
        (REFERRAL, "referral_id", referrals),
        (RECIPIENT, "actor_id", recipients),
        (COMMUNITY, "community_id", communities),
    ):
        save(session, table, key, [_values(f) for f in new], [_values(f) for f in changed])


def save_timers(session: Session, records: Iterable[TimerRecord], new_referrals: Collection[str] = ()) -> None:
    """New timers are inserted (a twin inserted meanwhile wins); changed ones are updated only
    while still scheduled, so a timer fired or cancelled meanwhile is not overwritten. Timers
    about `new_referrals` (created in this transaction: none can have a twin) are inserted
    without the conflict check (on PostgreSQL a COPY into the table rather than one into a
    staging table and an INSERT from it).

    A timer that fired for good in the batch that made it (the welcome contact told at once)
    is not written: the referral row already keeps the same referral from being planned
    again, its message is the record, and it was a third of the rows new referrals wrote."""
    new: list[dict[str, object]] = []
    unique: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for record in records:
        if record.id is None:
            if record.status != "fired":
                row: dict[str, object] = {
                    "rule": record.rule,
                    "subject_id": record.subject_id,
                    "referral_id": record.referral_id,
                    "due_at": record.due_at,
                    "status": record.status,
                    "created_at": record.created_at,
                    "settled_at": record.settled_at,
                }
                (unique if record.referral_id in new_referrals else new).append(row)
        elif record.changed:
            changed.append(
                {"timer_id": record.id, "due": record.due_at, "state": record.status, "settled": record.settled_at}
            )
    insert_many(session, TIMER, unique)
    insert_many(session, TIMER, new, "subject_id", "rule")
    if changed:
        session.execute(
            update(TIMER)
            .where(TIMER.c.id == bindparam("timer_id"), TIMER.c.status == "scheduled")
            .values(due_at=bindparam("due"), status=bindparam("state"), settled_at=bindparam("settled")),
            changed,
        )
