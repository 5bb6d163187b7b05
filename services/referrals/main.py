"""Composition root of the referrals service: settings → vault, applier, runtime → app."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from services.referrals import demo
from services.referrals.api import Context, citizens_router, outreach_router, referrals_router, referrers_router
from services.referrals.consumers import HANDLERS
from services.referrals.crypto import CitizenVault, master_key_from_setting
from services.referrals.handlers import Applier
from services.referrals.settings import ReferralsSettings
from services.referrals.store import Base
from services.referrals.welcome_page import welcome_router
from shared.app import create_app
from shared.ingest import ingest_router
from shared.runtime import Runtime
from shared.settings import Settings

DESCRIPTION = (
    "Referrers and the cascade, pseudonymous citizens (contact data encrypted per citizen), referrals and "
    "their lifecycle, accompaniment, practice tracks, one-click welcome, outreach, and CloudEvents ingestion."
)


def build(settings: Settings | None = None) -> FastAPI:
    if not isinstance(settings, ReferralsSettings):
        overrides = settings.model_dump(exclude={"service"}) if settings is not None else {}
        settings = ReferralsSettings(**overrides)
    runtime = Runtime(settings, Base.metadata)
    vault = CitizenVault(master_key_from_setting(settings.citizen_master_key, settings.token_secret))
    applier = Applier(vault)
    ctx = Context(runtime=runtime, applier=applier, vault=vault, settings=settings)
    runtime.consume("catalogue", "communities", HANDLERS)

    tasks: list[asyncio.Task[None]] = []

    async def start_demo() -> None:
        if settings.demo:
            # In the background: seeding waits for the catalogue's communities and must not hold up /readyz.
            tasks.append(asyncio.create_task(demo.seed_when_ready(ctx), name="referrals-demo"))

    async def stop_demo() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    return create_app(
        runtime,
        title="Vejviser referrals",
        description=DESCRIPTION,
        routers=[
            referrers_router(ctx),
            citizens_router(ctx),
            referrals_router(ctx),
            outreach_router(ctx),
            welcome_router(ctx),
            ingest_router(runtime, applier.apply, "referrals"),
        ],
        on_start=[start_demo],
        on_stop=[stop_demo],
    )
