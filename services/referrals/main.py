"""Composition root of the referrals service: settings → runtime, vault, service → app."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.referrals import demo
from services.referrals.api import ROUTERS
from services.referrals.consumers import HANDLERS
from services.referrals.crypto import CitizenVault, master_key_from_setting
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
    vault = CitizenVault(master_key_from_setting(config.citizen_master_key, config.token_secret))
    service = ReferralsService(runtime, config, vault)
    runtime.subscribe(HANDLERS)

    async def seed_demo(stop: asyncio.Event) -> None:
        # In the background: seeding waits for the catalogue's communities and must not hold up /readyz.
        await demo.seed_when_ready(service, stop)

    background: list[tuple[str, BackgroundJob]] = [("referrals-demo", seed_demo)] if config.demo else []
    app = create_app(
        runtime,
        title="Vejviser referrals",
        description=DESCRIPTION,
        routers=[*ROUTERS, ingest_router(runtime, batched(service.appliers.apply_all), "referrals")],
        background=background,
    )
    app.state.referrals = service
    return app
