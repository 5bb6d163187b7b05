"""A community's mail on hold: its contact (or a guide) pauses the e-mails to the community
(recipient `community:<id>`) until a date; the community's inbox still gets everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.notifications import store
from services.notifications.domain import community_recipient, may_pause
from services.notifications.service.core import Notifications
from services.notifications.service.people import check_pause, preference_row, settle_preferences
from shared.errors import Forbidden, NotFound
from shared.principal import Principal
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Pause:
    community_id: str
    recipient_id: str
    paused_until: datetime | None


def _allowed(session: Session, principal: Principal, community_id: str) -> None:
    if not may_pause(principal, community_id):
        raise Forbidden(
            "only the community's contact, a guide or an admin may pause its mail", community_id=community_id
        )
    if session.get(store.CommunityRow, community_id) is None:
        raise NotFound("no such community", community_id=community_id)


def pause_of(app: Notifications, principal: Principal, community_id: str) -> Pause:
    recipient = community_recipient(community_id)

    def work(session: Session) -> Pause:
        _allowed(session, principal, community_id)
        prefs = store.preferences(session, recipient, app.defaults)
        return Pause(community_id, recipient, prefs.paused_until)

    return app.runtime.read(work)


def set_pause(app: Notifications, principal: Principal, community_id: str, until: datetime | None) -> Pause:
    recipient = community_recipient(community_id)

    def work(uow: UnitOfWork) -> Pause:
        _allowed(uow.session, principal, community_id)
        check_pause(until, uow.now(), "until")
        row = preference_row(uow, app, recipient)
        row.paused_until = until
        prefs = settle_preferences(app, uow, row)
        return Pause(community_id, recipient, prefs.paused_until)

    return app.runtime.write(work)
