"""Municipal systems' webhooks: signed deliveries of nudges, and their dead letters."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.notifications import store
from services.notifications.service.core import Notifications
from shared.errors import NotFound
from shared.ids import new_id
from shared.principal import Principal, Role
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class WebhookView:
    row: store.WebhookRow
    deliveries: dict[str, int]  # count by status
    secret: str | None = field(default=None)  # only when just created


def _view(session: Session, row: store.WebhookRow, secret: str | None = None) -> WebhookView:
    counts = Counter(d.status for d in store.deliveries_of_webhook(session, row.id))
    return WebhookView(row, dict(counts), secret)


def _own(session: Session, principal: Principal, webhook_id: str) -> store.WebhookRow:
    row = session.get(store.WebhookRow, webhook_id)
    if row is None or (principal.role is not Role.admin and row.owner_id != principal.actor_id):
        raise NotFound("no such webhook among yours", webhook_id=webhook_id)
    return row


def create_webhook(
    app: Notifications, principal: Principal, url: str, secret: str | None, rules: list[str]
) -> WebhookView:
    secret = secret or secrets.token_urlsafe(32)

    def work(uow: UnitOfWork) -> WebhookView:
        row = store.WebhookRow(
            id=new_id(),
            owner_id=principal.actor_id,
            url=url,
            secret=secret,
            rules=sorted(set(rules)),
            active=True,
            created_at=uow.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        return _view(uow.session, row, secret)

    return app.runtime.write(work)


def list_webhooks(app: Notifications, principal: Principal) -> list[WebhookView]:
    owner = None if principal.role is Role.admin else principal.actor_id
    return app.runtime.read(lambda session: [_view(session, row) for row in store.webhooks(session, owner)])


def deliveries(
    app: Notifications, principal: Principal, webhook_id: str, status: str | None
) -> list[store.DeliveryRow]:
    def work(session: Session) -> list[store.DeliveryRow]:
        _own(session, principal, webhook_id)
        return store.deliveries_of_webhook(session, webhook_id, status)

    return app.runtime.read(work)


def deactivate_webhook(app: Notifications, principal: Principal, webhook_id: str) -> None:
    def work(uow: UnitOfWork) -> None:
        _own(uow.session, principal, webhook_id).active = False

    app.runtime.write(work)
