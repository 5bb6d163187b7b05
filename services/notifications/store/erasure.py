"""What erasing a citizen's referrals changes in the work tables: their timers are cancelled,
the messages about them (with every delivery, sent, queued or retrying) are deleted, and the
weekly digests that mention them among other things are read so they can be redacted.

Erasures are rare (a request, or the nightly retention job), so these run as a few set-based
statements per batch: timers through the index on scheduled timers, messages by one scan of
the nudge table (it has no index by referral that every insert would pay for)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from services.notifications.store.bulk import chunks
from services.notifications.store.tables import Base

NUDGE: Table = Base.metadata.tables["nudge"]
DELIVERY: Table = Base.metadata.tables["delivery"]
TIMER: Table = Base.metadata.tables["timer"]


def cancel_timers_of(session: Session, referral_ids: Iterable[str], now: datetime) -> int:
    """Cancel every scheduled timer of these referrals, whatever its rule (welcome, follow-up
    questions, reminders, and any a later rule adds)."""
    cancelled = 0
    for chunk in chunks(referral_ids):
        result = session.execute(
            update(TIMER)
            .where(TIMER.c.status == "scheduled", TIMER.c.referral_id.in_(chunk))
            .values(status="cancelled", settled_at=now)
        )
        cancelled += result.rowcount  # type: ignore[attr-defined]
    return cancelled


def drop_messages_about(session: Session, referral_ids: Iterable[str]) -> int:
    """Delete the messages about these referrals from every inbox, with their deliveries: a
    queued or retrying e-mail, SMS or webhook call is never sent."""
    dropped = 0
    for chunk in chunks(referral_ids):
        about = select(NUDGE.c.id).where(NUDGE.c.referral_id.in_(chunk))
        session.execute(delete(DELIVERY).where(DELIVERY.c.nudge_id.in_(about)))
        dropped += session.execute(delete(NUDGE).where(NUDGE.c.referral_id.in_(chunk))).rowcount  # type: ignore[attr-defined]
    return dropped


def messages_to(session: Session, rule: str, recipient_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(id, stored facts) of every message of `rule` to these recipients."""
    found: list[tuple[str, str]] = []
    for chunk in chunks(recipient_ids):
        query = select(NUDGE.c.id, NUDGE.c.context).where(NUDGE.c.rule == rule, NUDGE.c.recipient_id.in_(chunk))
        found += [(row.id, row.context) for row in session.execute(query)]
    return found


def rewrite_contexts(session: Session, contexts: Mapping[str, str]) -> None:
    """Replace the stored facts of these messages (id -> facts as JSON)."""
    if contexts:
        session.execute(
            update(NUDGE).where(NUDGE.c.id == bindparam("nudge_id")).values(context=bindparam("facts")),
            [{"nudge_id": nudge_id, "facts": facts} for nudge_id, facts in contexts.items()],
        )


def drop_nudges(session: Session, nudge_ids: Sequence[str]) -> None:
    for chunk in chunks(nudge_ids):
        session.execute(delete(DELIVERY).where(DELIVERY.c.nudge_id.in_(chunk)))
        session.execute(delete(NUDGE).where(NUDGE.c.id.in_(chunk)))
