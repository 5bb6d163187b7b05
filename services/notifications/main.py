"""Composition root of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session

from services.notifications.store import Base, SeenEvent
from shared.app import create_app
from shared.events import Envelope
from shared.events.referrals import ReferralCreated
from shared.runtime import Runtime
from shared.settings import Settings, settings_for


def on_event(session: Session, envelope: Envelope, event: ReferralCreated) -> None:
    session.add(SeenEvent(event_id=envelope.id, subject=envelope.subject or ""))


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or settings_for("notifications")
    runtime = Runtime(settings, Base.metadata)
    runtime.consume("referrals", "skeleton", {ReferralCreated: on_event})  # type: ignore[dict-item]
    return create_app(runtime, title="Vejviser notifications")
