"""Composition root of the catalogue service."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.catalogue import demo
from services.catalogue.api import routers
from services.catalogue.consumers import HANDLERS
from services.catalogue.ratelimit import TokenBucket
from services.catalogue.service import Catalogue
from services.catalogue.service.ingest import apply
from services.catalogue.settings import CatalogueSettings
from services.catalogue.store import Base
from shared.app import BackgroundJob, create_app
from shared.ingest import ingest_router
from shared.runtime import Runtime
from shared.settings import Settings


def build(settings: Settings | None = None, *, start_runtime: bool = True) -> FastAPI:
    """The app; `start_runtime=False` serves the database only (benchmarks, no NATS)."""
    config = CatalogueSettings.for_service(settings)
    runtime = Runtime(config, Base.metadata)
    catalogue = Catalogue(runtime)
    runtime.subscribe(HANDLERS)

    async def prepare() -> None:
        await asyncio.to_thread(catalogue.prepare)
        await asyncio.to_thread(catalogue.sync_index)

    # In the background so /readyz answers while the demo world loads.
    background: list[tuple[str, BackgroundJob]] = [("catalogue-demo", demo.seeder(catalogue))] if config.demo else []
    bucket = TokenBucket(config.hsds_rate_per_second, config.hsds_burst)
    app = create_app(
        runtime,
        title="Vejviser catalogue",
        description="The map of communities, associations, capacity and unmet needs; HSDS 3.0 exchange.",
        routers=[
            *routers(bucket, f"{config.public_base_url}/openapi.json"),
            ingest_router(runtime, apply, "catalogue"),
        ],
        on_start=[prepare],
        background=background,
        start_runtime=start_runtime,
    )
    app.state.catalogue = catalogue
    return app
