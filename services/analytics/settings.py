"""Settings of the analytics service (environment variables, on top of the shared ones)."""

from __future__ import annotations

from pydantic import field_validator

from services.analytics.domain import next_run
from shared.settings import Settings


class AnalyticsSettings(Settings):
    service: str = "analytics"
    # When the nightly snapshot is taken, read on the Copenhagen wall clock (NIGHTLY_CRON).
    nightly_cron: str = "0 2 * * *"

    @field_validator("nightly_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from datetime import UTC, datetime

        next_run(value, datetime.now(UTC))  # raises with a readable message
        return value


def analytics_settings(settings: Settings | None = None) -> AnalyticsSettings:
    if isinstance(settings, AnalyticsSettings):
        return settings
    if settings is None:
        return AnalyticsSettings()
    return AnalyticsSettings(**settings.model_dump())
