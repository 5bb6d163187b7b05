"""Composition root of the referrals service: settings → runtime, vault (key store), service → app."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.referrals import demo
from services.referrals.api import ROUTERS
from services.referrals.consumers import HANDLERS
from services.referrals.crypto import vault_from_settings
from services.referrals.service import ReferralsService
from services.referrals.settings import ReferralsSettings
from services.referrals.tables import Base
from shared.app import BackgroundJob, create_app
from shared.inbox import batched
from shared.ingest import ingest_router
from shared.runtime import Runtime
from shared.settings import Settings

DESCRIPTION = (
    "Referrers and the cascade, pseudonymous citizens (contact data encrypted per citizen), referrals and "
    "their lifecycle, accompaniment, practice tracks, one-click welcome, outreach, and CloudEvents ingestion."
)


def build(settings: Settings | None = None) -> FastAPI:
    config = ReferralsSettings.for_service(settings)
    runtime = Runtime(config, Base.metadata)
    vault = vault_from_settings(config)
    service = ReferralsService(runtime, config, vault)
    runtime.subscribe(HANDLERS)

    async def seed_demo(stop: asyncio.Event) -> None:
        # In the background: seeding waits for the catalogue's communities and must not hold up /readyz.
        await demo.seed_when_ready(service, stop)

    async def open_key_store() -> None:
        await asyncio.to_thread(vault.open)  # no KEK file (outside development): the start-up stops here

    async def close_key_store(stop: asyncio.Event) -> None:
        await stop.wait()
        vault.close()

    background: list[tuple[str, BackgroundJob]] = [
        ("referrals-keys", close_key_store),
        ("referrals-retention", service.retention.nightly),
    ]
    if config.demo:
        background.append(("referrals-demo", seed_demo))
    app = create_app(
        runtime,
        title="Vejviser referrals",
        description=DESCRIPTION,
        routers=[*ROUTERS, ingest_router(runtime, batched(service.appliers.apply_all), "referrals")],
        on_start=[open_key_store],
        background=background,
    )
    app.state.referrals = service
    return app
