"""Composition root of the notifications service: settings, clock, channels, rules, consumers,
the background worker and the HTTP API, wired once."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from sqlalchemy.orm import Session

from services.notifications import demo
from services.notifications.api import routers
from services.notifications.channels import Channel, EmailChannel, SmsChannel, SmsGateway, WebhookChannel
from services.notifications.clock import Clock, SystemClock
from services.notifications.consumers import Consumers
from services.notifications.engine import Engine
from services.notifications.settings import NotificationSettings
from services.notifications.store import Base
from services.notifications.worker import Worker
from shared.app import create_app
from shared.events import Event
from shared.runtime import Runtime
from shared.settings import Settings

DESCRIPTION = (
    "Nudges professionals and ambassadors, closes the loop with referrers and prepares the "
    "community's welcome. Learns everything from referral and catalogue events."
)


def notification_settings(settings: Settings | None) -> NotificationSettings:
    if settings is None:
        return NotificationSettings()
    if isinstance(settings, NotificationSettings):
        return settings
    return NotificationSettings(**settings.model_dump(exclude={"service"}))


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sms_gateway: SmsGateway | None = None,
) -> FastAPI:
    config = notification_settings(settings)
    runtime = Runtime(config, Base.metadata)

    def stage(session: Session, event: Event) -> None:
        runtime.stage(session, event)

    engine = Engine(config, clock or SystemClock(), stage)
    channels: dict[str, Channel] = {"email": EmailChannel(config), "webhook": WebhookChannel(config)}
    if config.sms_enabled and sms_gateway is not None:
        channels["sms"] = SmsChannel(sms_gateway)
    worker = Worker(runtime, engine, channels)

    consumers = Consumers(engine)
    runtime.consume("referrals", "referrals", consumers.referral_handlers(), after_batch=worker.wake)
    runtime.consume("catalogue", "catalogue", consumers.catalogue_handlers(), after_batch=worker.wake)

    background: list[asyncio.Task[None]] = []

    async def start() -> None:
        await worker.start()
        if config.demo:
            background.append(asyncio.create_task(demo.seed_in_background(runtime, engine)))

    async def stop() -> None:
        await worker.stop()
        for task in background:
            task.cancel()

    app = create_app(
        runtime,
        title="Vejviser notifications",
        description=DESCRIPTION,
        routers=routers,
        on_start=[start],
        on_stop=[stop],
    )
    app.state.engine = engine
    app.state.worker = worker
    return app
