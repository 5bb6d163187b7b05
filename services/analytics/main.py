"""Composition root of the analytics service."""

from __future__ import annotations

from fastapi import FastAPI

from services.analytics import service
from services.analytics.api import ROUTERS
from services.analytics.consumers import HANDLERS
from services.analytics.settings import AnalyticsSettings
from services.analytics.store import Base
from shared.app import BackgroundJob, create_app
from shared.runtime import Runtime
from shared.settings import Settings


def runtime_for(config: AnalyticsSettings) -> Runtime:
    """The analytics runtime: for the app below, and for the operator commands and the
    benchmark, which use it without the app (and without the consumers)."""
    return Runtime(config, Base.metadata)


def build(settings: Settings | None = None) -> FastAPI:
    config = AnalyticsSettings.for_service(settings)
    runtime = runtime_for(config)
    runtime.subscribe(HANDLERS)
    background: list[tuple[str, BackgroundJob]] = [("nightly", service.nightly(runtime, config.nightly_cron))]
    if config.demo:
        background.append(("demo-snapshot", service.demo_snapshot(runtime)))
    return create_app(
        runtime,
        title="Vejviser analytics",
        description="Cascade metrics (metrics.md), nightly snapshots and the dashboard, built from events only.",
        routers=ROUTERS,
        background=background,
    )
