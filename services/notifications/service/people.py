"""What people read and set: their inbox and their notification preferences."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.notifications import store
from services.notifications.domain import community_recipient, pause_problem
from services.notifications.messages import Rendered
from services.notifications.routing import Preferences, moved_delivery
from services.notifications.service.core import Notifications
from shared.errors import Invalid, NotFound
from shared.principal import Principal
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.notifications.people")
UNREADABLE = "Beskeden kan ikke vises lige nu."


def recipient_ids(principal: Principal) -> list[str]:
    """A caller reads their own messages and, as a community contact, their communities'."""
    return [principal.actor_id, *(community_recipient(c) for c in principal.communities)]


@dataclass(frozen=True)
class Letter:
    """An inbox entry: the stored message and its text, rendered as it is read."""

    row: store.NudgeRow
    message: Rendered


@dataclass(frozen=True)
class Inbox:
    unread: int
    messages: list[Letter]


def _letter(app: Notifications, row: store.NudgeRow) -> Letter:
    try:
        message = app.messages.render_stored(row.rule, row.context, sent_at=app.now())
    except Exception:  # one broken template must not hide the rest of the inbox
        log.exception("message does not render", extra={"rule": row.rule, "nudge_id": row.id})
        message = Rendered(subject=UNREADABLE, text=UNREADABLE + "\n", html=f"<p>{UNREADABLE}</p>")
    return Letter(row, message)


def read_inbox(app: Notifications, principal: Principal, *, unread_only: bool, limit: int) -> Inbox:
    rows = app.runtime.read(lambda session: store.nudges(session, recipients=recipient_ids(principal), limit=limit))
    messages = [_letter(app, r) for r in rows if not unread_only or r.read_at is None]
    return Inbox(unread=sum(1 for r in rows if r.read_at is None), messages=messages)


def unread(app: Notifications, principal: Principal) -> int:
    """All of the caller's unread messages (the header's badge), not only the newest page."""
    return app.runtime.read(lambda session: store.unread_count(session, recipient_ids(principal)))


def mark_read(app: Notifications, principal: Principal, message_id: str) -> Letter:
    def work(uow: UnitOfWork) -> store.NudgeRow:
        row = uow.session.get(store.NudgeRow, message_id)
        if row is None or row.recipient_id not in recipient_ids(principal):
            raise NotFound("no such message in your inbox", message_id=message_id)
        if row.read_at is None:
            row.read_at = uow.now()
        return row

    return _letter(app, app.runtime.write(work))


def preferences(app: Notifications, principal: Principal) -> Preferences:
    return app.runtime.read(lambda session: store.preferences(session, principal.actor_id, app.defaults))


@dataclass(frozen=True)
class PreferenceChange:
    channels: Sequence[str]
    opted_out: Sequence[str]
    quiet_hours: tuple[str, str] | None  # (HH:MM, HH:MM) on the Copenhagen wall clock
    daily_cap: int
    paused_until: datetime | None = None


def preference_row(uow: UnitOfWork, app: Notifications, recipient_id: str) -> store.PreferenceRow:
    """The recipient's preferences row, made from the defaults when they have none yet."""
    row = uow.session.get(store.PreferenceRow, recipient_id)
    if row is None:
        defaults = app.defaults
        row = store.PreferenceRow(
            recipient_id=recipient_id,
            channels=sorted(defaults.channels),
            opted_out=sorted(defaults.opted_out),
            quiet_start=defaults.quiet_start.strftime("%H:%M") if defaults.quiet_start else None,
            quiet_end=defaults.quiet_end.strftime("%H:%M") if defaults.quiet_end else None,
            daily_cap=defaults.daily_cap,
        )
        uow.session.add(row)
    return row


def check_pause(until: datetime | None, now: datetime, field: str = "paused_until") -> None:
    problem = pause_problem(until, now)
    if problem:
        raise Invalid(f"{field}: {problem}", field=field)


def settle_preferences(app: Notifications, uow: UnitOfWork, row: store.PreferenceRow) -> Preferences:
    """Store a changed row and move the recipient's waiting e-mails and SMS to what the new
    pause and quiet hours allow (lifting a pause sends what it held back)."""
    now = uow.now()
    row.updated_at = now
    uow.session.flush()
    prefs = store.preferences(uow.session, row.recipient_id, app.defaults)
    for delivery in store.pending_personal_deliveries(uow.session, row.recipient_id):
        delivery.next_attempt_at = moved_delivery(prefs, now, due=delivery.next_attempt_at, tried=delivery.attempts > 0)
    return prefs


def set_preferences(app: Notifications, principal: Principal, change: PreferenceChange) -> Preferences:
    def work(uow: UnitOfWork) -> Preferences:
        check_pause(change.paused_until, uow.now())
        row = preference_row(uow, app, principal.actor_id)
        row.channels = list(change.channels)
        row.opted_out = sorted(set(change.opted_out))
        row.quiet_start, row.quiet_end = change.quiet_hours or (None, None)
        row.daily_cap = change.daily_cap
        row.paused_until = change.paused_until
        return settle_preferences(app, uow, row)

    return app.runtime.write(work)
