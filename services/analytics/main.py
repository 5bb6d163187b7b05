"""Composition root of the analytics service."""

from __future__ import annotations

from fastapi import FastAPI

from services.analytics.api import ROUTERS
from services.analytics.consumers import HANDLERS
from services.analytics.service import Analytics
from services.analytics.settings import AnalyticsSettings
from services.analytics.store import Base
from shared.app import BackgroundJob, create_app
from shared.runtime import Runtime
from shared.settings import Settings


def analytics_for(config: AnalyticsSettings) -> Analytics:
    """The service object over its runtime: for the app below, and for the operator commands,
    which use it without the app (and without the consumers)."""
    return Analytics(Runtime(config, Base.metadata), config.nightly_cron)


def build(settings: Settings | None = None) -> FastAPI:
    config = AnalyticsSettings.for_service(settings)
    analytics = analytics_for(config)
    runtime = analytics.runtime
    runtime.subscribe(HANDLERS)
    background: list[tuple[str, BackgroundJob]] = [("nightly", analytics.nightly)]
    if config.demo:
        background.append(("demo-snapshot", analytics.demo_snapshot))
    app = create_app(
        runtime,
        title="Vejviser analytics",
        description="Cascade metrics (metrics.md), nightly snapshots and the dashboard, built from events only.",
        routers=ROUTERS,
        background=background,
    )
    app.state.analytics = analytics
    return app
