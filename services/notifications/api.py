"""HTTP API: the inbox, preferences, webhooks and the nudge overview."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, HttpUrl, field_validator
from sqlalchemy.orm import Session

from services.notifications import domain, store
from services.notifications.domain import Rule
from services.notifications.engine import Engine
from shared.auth import CurrentPrincipal, Principal, Role, require
from shared.db import Database
from shared.errors import NotFound
from shared.ids import new_id

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


def _db(request: Request) -> Iterator[Session]:
    database: Database = request.app.state.runtime.db
    with database.transaction() as session:
        yield session


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


# scope="function": commit before the answer is sent, so a 2xx means the change is stored.
Tx = Annotated[Session, Depends(_db, scope="function")]
CurrentEngine = Annotated[Engine, Depends(_engine)]
SystemOrAdmin = Annotated[Principal, Depends(require(Role.municipal_system, Role.admin))]
GuideOrAdmin = Annotated[Principal, Depends(require(Role.guide, Role.admin))]


def recipient_ids(principal: Principal) -> list[str]:
    """A caller reads their own messages and, as a community contact, their communities'."""
    return [principal.actor_id, *(domain.community_recipient(c) for c in principal.communities)]


# ---------------------------------------------------------------------------- inbox


class InboxMessage(BaseModel):
    id: str
    rule: Rule
    title: str
    text: str
    html: str
    recipient_id: str
    referral_id: str | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, row: store.NudgeRow) -> InboxMessage:
        return cls(
            id=row.id,
            rule=Rule(row.rule),
            title=row.title,
            text=row.body_text,
            html=row.body_html,
            recipient_id=row.recipient_id,
            referral_id=row.referral_id,
            created_at=row.created_at,
            read_at=row.read_at,
        )


class Inbox(BaseModel):
    unread: int
    messages: list[InboxMessage]


inbox = APIRouter(prefix="/v1/inbox", tags=["inbox"])


@inbox.get("", summary="The caller's own messages, newest first")
def read_inbox(
    principal: CurrentPrincipal,
    session: Tx,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Inbox:
    rows = store.nudges(session, recipients=recipient_ids(principal), limit=limit)
    messages = [InboxMessage.of(r) for r in rows if not unread_only or r.read_at is None]
    return Inbox(unread=sum(1 for r in rows if r.read_at is None), messages=messages)


@inbox.post("/{message_id}/read", summary="Mark one of the caller's messages as read")
def mark_read(message_id: str, principal: CurrentPrincipal, session: Tx, engine: CurrentEngine) -> InboxMessage:
    row = session.get(store.NudgeRow, message_id)
    if row is None or row.recipient_id not in recipient_ids(principal):
        raise NotFound("no such message in your inbox", message_id=message_id)
    if row.read_at is None:
        row.read_at = engine.clock.now()
    return InboxMessage.of(row)


# ---------------------------------------------------------------------------- preferences


class QuietHours(BaseModel):
    start: str = Field(pattern=HHMM, description="HH:MM, Europe/Copenhagen", examples=["21:00"])
    end: str = Field(pattern=HHMM, description="HH:MM, Europe/Copenhagen", examples=["07:00"])


class PreferencesBody(BaseModel):
    channels: list[Literal["inbox", "email", "sms"]] = Field(
        default_factory=lambda: ["inbox", "email"],  # type: ignore[arg-type]
        description="Where messages go besides the inbox (which always gets them)",
    )
    opted_out: list[Rule] = Field(default_factory=list, description="Rules you do not want messages from")
    quiet_hours: QuietHours | None = Field(
        default_factory=lambda: QuietHours(start="21:00", end="07:00"),
        description="Nothing but the inbox in these hours; null: no quiet hours",
    )
    daily_cap: int = Field(default=10, ge=0, le=100, description="At most this many e-mails/SMS a day")

    @field_validator("channels")
    @classmethod
    def _inbox_always(cls, value: list[str]) -> list[str]:
        return sorted({"inbox", *value})


class PreferencesOut(PreferencesBody):
    recipient_id: str
    sms_available: bool


preferences = APIRouter(prefix="/v1/preferences", tags=["preferences"])


def _prefs_out(recipient_id: str, prefs: domain.Preferences, sms_available: bool) -> PreferencesOut:
    quiet = None
    if prefs.quiet_start is not None and prefs.quiet_end is not None:
        quiet = QuietHours(start=prefs.quiet_start.strftime("%H:%M"), end=prefs.quiet_end.strftime("%H:%M"))
    return PreferencesOut(
        recipient_id=recipient_id,
        channels=sorted({"inbox", *prefs.channels}),  # type: ignore[arg-type]
        opted_out=sorted(Rule(r) for r in prefs.opted_out),
        quiet_hours=quiet,
        daily_cap=prefs.daily_cap,
        sms_available=sms_available,
    )


@preferences.get("", summary="The caller's notification preferences (defaults until set)")
def get_preferences(principal: CurrentPrincipal, session: Tx, engine: CurrentEngine) -> PreferencesOut:
    prefs = store.preferences(session, principal.actor_id, engine.defaults)
    return _prefs_out(principal.actor_id, prefs, engine.settings.sms_enabled)


@preferences.put("", summary="Replace the caller's notification preferences")
def put_preferences(
    body: PreferencesBody, principal: CurrentPrincipal, session: Tx, engine: CurrentEngine
) -> PreferencesOut:
    row = session.get(store.PreferenceRow, principal.actor_id)
    if row is None:
        row = store.PreferenceRow(recipient_id=principal.actor_id)
        session.add(row)
    row.channels = list(body.channels)
    row.opted_out = sorted({str(r) for r in body.opted_out})
    row.quiet_start = body.quiet_hours.start if body.quiet_hours else None
    row.quiet_end = body.quiet_hours.end if body.quiet_hours else None
    row.daily_cap = body.daily_cap
    row.updated_at = engine.clock.now()
    session.flush()
    return _prefs_out(
        principal.actor_id, store.preferences(session, principal.actor_id, engine.defaults), engine.settings.sms_enabled
    )


# ---------------------------------------------------------------------------- webhooks


class WebhookIn(BaseModel):
    url: HttpUrl
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="HMAC key; generated and returned once when left out"
    )
    rules: list[Rule] = Field(default_factory=list, description="Rules to receive; empty: all")


class WebhookOut(BaseModel):
    id: str
    url: str
    rules: list[Rule]
    active: bool
    created_at: datetime
    owner_id: str
    secret: str | None = Field(default=None, description="Only in the answer that created the webhook")
    deliveries: dict[str, int] = Field(default_factory=dict)


class DeliveryOut(BaseModel):
    id: str
    nudge_id: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


webhooks = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _webhook_out(session: Session, row: store.WebhookRow, secret: str | None = None) -> WebhookOut:
    counts: dict[str, int] = {}
    for d in store.deliveries_of_webhook(session, row.id):
        counts[d.status] = counts.get(d.status, 0) + 1
    return WebhookOut(
        id=row.id,
        url=row.url,
        rules=[Rule(r) for r in row.rules],
        active=row.active,
        created_at=row.created_at,
        owner_id=row.owner_id,
        secret=secret,
        deliveries=counts,
    )


def _own_webhook(session: Session, principal: Principal, webhook_id: str) -> store.WebhookRow:
    row = session.get(store.WebhookRow, webhook_id)
    if row is None or (principal.role is not Role.admin and row.owner_id != principal.actor_id):
        raise NotFound("no such webhook among yours", webhook_id=webhook_id)
    return row


@webhooks.post("", status_code=201, summary="Subscribe a municipal system to signed nudge deliveries")
def create_webhook(body: WebhookIn, principal: SystemOrAdmin, session: Tx, engine: CurrentEngine) -> WebhookOut:
    secret = body.secret or secrets.token_urlsafe(32)
    row = store.WebhookRow(
        id=new_id(),
        owner_id=principal.actor_id,
        url=str(body.url),
        secret=secret,
        rules=sorted({str(r) for r in body.rules}),
        active=True,
        created_at=engine.clock.now(),
    )
    session.add(row)
    session.flush()
    return _webhook_out(session, row, secret=secret)


@webhooks.get("", summary="The caller's webhooks (an admin sees all) with delivery counts")
def list_webhooks(principal: SystemOrAdmin, session: Tx) -> list[WebhookOut]:
    from sqlalchemy import select

    query = select(store.WebhookRow).order_by(store.WebhookRow.created_at)
    if principal.role is not Role.admin:
        query = query.where(store.WebhookRow.owner_id == principal.actor_id)
    return [_webhook_out(session, row) for row in session.scalars(query)]


@webhooks.get("/{webhook_id}/deliveries", summary="Deliveries of a webhook; status=failed lists the dead letters")
def list_deliveries(
    webhook_id: str, principal: SystemOrAdmin, session: Tx, status: Literal["pending", "sent", "failed"] | None = None
) -> list[DeliveryOut]:
    _own_webhook(session, principal, webhook_id)
    return [
        DeliveryOut(
            id=d.id,
            nudge_id=d.nudge_id,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            created_at=d.created_at,
            sent_at=d.sent_at,
        )
        for d in store.deliveries_of_webhook(session, webhook_id, status)
    ]


@webhooks.delete("/{webhook_id}", status_code=204, summary="Stop deliveries to a webhook")
def delete_webhook(webhook_id: str, principal: SystemOrAdmin, session: Tx) -> None:
    _own_webhook(session, principal, webhook_id).active = False


# ---------------------------------------------------------------------------- nudges


class NudgeItem(BaseModel):
    id: str
    kind: Literal["timer", "message"]
    rule: Rule
    status: str
    referral_id: str | None
    recipient_id: str | None = None
    subject_id: str
    due_at: datetime | None = None
    created_at: datetime
    settled_at: datetime | None = None


nudges = APIRouter(prefix="/v1/nudges", tags=["nudges"])
NudgeStatus = Literal["scheduled", "sent", "cancelled", "failed", "pending"]


@nudges.get("", summary="Scheduled and cancelled timers, sent, pending and failed messages (guides and admins)")
def list_nudges(
    _: GuideOrAdmin, session: Tx, status: NudgeStatus, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[NudgeItem]:
    if status in ("scheduled", "cancelled"):
        return [
            NudgeItem(
                id=f"timer-{t.id}",
                kind="timer",
                rule=Rule(t.rule),
                status=t.status,
                referral_id=t.referral_id,
                subject_id=t.subject_id,
                due_at=t.due_at,
                created_at=t.created_at,
                settled_at=t.settled_at,
            )
            for t in store.timers(session, status=status, limit=limit)
        ]
    return [_message_item(n) for n in store.nudges(session, status=status, limit=limit)]


def _message_item(n: store.NudgeRow) -> NudgeItem:
    extra: dict[str, Any] = {"settled_at": n.sent_at}
    return NudgeItem(
        id=n.id,
        kind="message",
        rule=Rule(n.rule),
        status=n.status,
        referral_id=n.referral_id,
        recipient_id=n.recipient_id,
        subject_id=n.subject_id,
        created_at=n.created_at,
        **extra,
    )


routers = [inbox, preferences, webhooks, nudges]
