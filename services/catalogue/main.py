"""Composition root of the catalogue service."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.catalogue import consumers, demo
from services.catalogue.api import router
from services.catalogue.hsds_api import import_router, public_router
from services.catalogue.ingest import apply
from services.catalogue.ratelimit import TokenBucket
from services.catalogue.service import Catalogue
from services.catalogue.settings import catalogue_settings
from services.catalogue.store import Base
from shared.app import create_app
from shared.ingest import ingest_router
from shared.runtime import Runtime
from shared.settings import Settings

log = logging.getLogger("vejviser.catalogue")


def compose(settings: Settings | None = None, *, start_runtime: bool = True) -> FastAPI:
    """The app; `start_runtime=False` serves the database only (benchmarks, no NATS)."""
    config = catalogue_settings(settings)
    runtime = Runtime(config, Base.metadata)
    catalogue = Catalogue(runtime)
    consumers.register(runtime)
    background: set[asyncio.Task[None]] = set()

    async def prepare() -> None:
        await asyncio.to_thread(catalogue.prepare)
        await asyncio.to_thread(catalogue.sync_index)
        if config.demo:
            # In the background so /readyz answers while the demo world loads.
            task = asyncio.create_task(demo.seed_in_background(catalogue), name="catalogue-demo")
            background.add(task)
            task.add_done_callback(background.discard)

    async def stop_background() -> None:
        for task in list(background):
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()

    bucket = TokenBucket(config.hsds_rate_per_second, config.hsds_burst)
    app = create_app(
        runtime,
        title="Vejviser catalogue",
        description="The map of communities, associations, capacity and unmet needs; HSDS 3.0 exchange.",
        routers=[
            router(),
            ingest_router(runtime, apply, "catalogue"),
            import_router(),
            public_router(bucket, f"{config.public_base_url}/openapi.json"),
        ],
        on_start=[prepare],
        on_stop=[stop_background],
        start_runtime=start_runtime,
    )
    app.state.catalogue = catalogue
    return app


def build(settings: Settings | None = None) -> FastAPI:
    return compose(settings)
