"""Composition root of the analytics service."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from services.analytics import consumers, service
from services.analytics.api import dashboard_router, router
from services.analytics.settings import analytics_settings
from services.analytics.store import Base
from shared.app import create_app
from shared.runtime import Runtime
from shared.settings import Settings


def build(settings: Settings | None = None) -> FastAPI:
    config = analytics_settings(settings)
    runtime = Runtime(config, Base.metadata)
    consumers.register(runtime)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[object]] = []

    async def start_background() -> None:
        stop.clear()
        tasks.append(asyncio.create_task(service.run_schedule(runtime, config.nightly_cron, stop), name="nightly"))
        if config.demo:
            tasks.append(asyncio.create_task(service.snapshot_when_data_arrives(runtime, stop), name="demo-snapshot"))

    async def stop_background() -> None:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
        tasks.clear()

    return create_app(
        runtime,
        title="Vejviser analytics",
        description="Cascade metrics (metrics.md), nightly snapshots and the dashboard, built from events only.",
        routers=[router, dashboard_router],
        on_start=[start_background],
        on_stop=[stop_background],
    )
