"""Municipal systems subscribe to signed nudge deliveries and see their dead letters."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from services.notifications.api.deps import Service, SystemOrAdmin
from services.notifications.domain import Rule
from services.notifications.schemas import DeliveryOut, WebhookIn, WebhookOut
from services.notifications.service import webhooks
from services.notifications.service.webhooks import WebhookView

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _out(view: WebhookView) -> WebhookOut:
    row = view.row
    return WebhookOut(
        id=row.id,
        url=row.url,
        rules=[Rule(rule) for rule in row.rules],
        active=row.active,
        created_at=row.created_at,
        owner_id=row.owner_id,
        secret=view.secret,
        deliveries=view.deliveries,
    )


@router.post("", status_code=201, summary="Subscribe a municipal system to signed nudge deliveries")
def create_webhook(body: WebhookIn, principal: SystemOrAdmin, service: Service) -> WebhookOut:
    rules = [str(rule) for rule in body.rules]
    return _out(webhooks.create_webhook(service, principal, str(body.url), body.secret, rules))


@router.get("", summary="The caller's webhooks (an admin sees all) with delivery counts")
def list_webhooks(principal: SystemOrAdmin, service: Service) -> list[WebhookOut]:
    return [_out(view) for view in webhooks.list_webhooks(service, principal)]


@router.get("/{webhook_id}/deliveries", summary="Deliveries of a webhook; status=failed lists the dead letters")
def list_deliveries(
    webhook_id: str,
    principal: SystemOrAdmin,
    service: Service,
    status: Literal["pending", "sent", "failed"] | None = None,
) -> list[DeliveryOut]:
    return [DeliveryOut.of(row) for row in webhooks.deliveries(service, principal, webhook_id, status)]


@router.delete("/{webhook_id}", status_code=204, response_class=Response, summary="Stop deliveries to a webhook")
def delete_webhook(webhook_id: str, principal: SystemOrAdmin, service: Service) -> None:
    webhooks.deactivate_webhook(service, principal, webhook_id)
