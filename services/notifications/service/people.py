"""What people read and set: their inbox and their notification preferences."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from services.notifications import store
from services.notifications.domain import community_recipient
from services.notifications.messages import Rendered
from services.notifications.routing import Preferences
from services.notifications.service.core import Notifications
from shared.errors import NotFound
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
        message = app.messages.render_stored(row.rule, row.context)
    except Exception:  # one broken template must not hide the rest of the inbox
        log.exception("message does not render", extra={"rule": row.rule, "nudge_id": row.id})
        message = Rendered(subject=UNREADABLE, text=UNREADABLE + "\n", html=f"<p>{UNREADABLE}</p>")
    return Letter(row, message)


def read_inbox(app: Notifications, principal: Principal, *, unread_only: bool, limit: int) -> Inbox:
    rows = app.runtime.read(lambda session: store.nudges(session, recipients=recipient_ids(principal), limit=limit))
    messages = [_letter(app, r) for r in rows if not unread_only or r.read_at is None]
    return Inbox(unread=sum(1 for r in rows if r.read_at is None), messages=messages)


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


def set_preferences(app: Notifications, principal: Principal, change: PreferenceChange) -> Preferences:
    def work(uow: UnitOfWork) -> Preferences:
        row = uow.session.get(store.PreferenceRow, principal.actor_id)
        if row is None:
            row = store.PreferenceRow(recipient_id=principal.actor_id)
            uow.session.add(row)
        row.channels = list(change.channels)
        row.opted_out = sorted(set(change.opted_out))
        row.quiet_start, row.quiet_end = change.quiet_hours or (None, None)
        row.daily_cap = change.daily_cap
        row.updated_at = uow.now()
        uow.session.flush()
        return store.preferences(uow.session, principal.actor_id, app.defaults)

    return app.runtime.write(work)
