"""Composition root of the notifications service: settings, clock, runtime, channels, the
service object, its consumers, the worker's background jobs and the HTTP API, wired once."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications import demo
from services.notifications.api import routers
from services.notifications.channels import Channel, EmailChannel, SmsChannel, SmsGateway, WebhookChannel
from services.notifications.consumers import handlers
from services.notifications.service import Notifications
from services.notifications.service.deliver import Worker
from services.notifications.settings import NotificationSettings
from services.notifications.store import Base
from shared.app import BackgroundJob, create_app
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import Settings

DESCRIPTION = (
    "Nudges professionals and ambassadors, closes the loop with referrers and prepares the "
    "community's welcome. Learns everything from referral and catalogue events."
)


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sms_gateway: SmsGateway | None = None,
) -> FastAPI:
    config = NotificationSettings.for_service(settings)
    runtime = Runtime(config, Base.metadata, clock=clock)
    service = Notifications(runtime, config)
    channels: dict[str, Channel] = {"email": EmailChannel(config), "webhook": WebhookChannel(config)}
    if config.sms_enabled and sms_gateway is not None:
        channels["sms"] = SmsChannel(sms_gateway)
    worker = Worker(service, channels)
    runtime.subscribe(handlers(service), after_batch=worker.wake)

    background: list[tuple[str, BackgroundJob]] = [
        ("notification-timers", worker.run_timers),
        ("notification-deliveries", worker.run_deliveries),
    ]
    if config.demo:
        background.append(("notification-demo", demo.seeding(runtime)))
    app = create_app(
        runtime,
        title="Vejviser notifications",
        description=DESCRIPTION,
        routers=routers,
        background=background,
    )
    app.state.notifications = service
    app.state.worker = worker
    return app
