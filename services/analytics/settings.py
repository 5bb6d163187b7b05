"""Settings of the analytics service (environment variables, on top of the shared ones)."""

from __future__ import annotations

from pydantic import field_validator

from services.analytics.domain import next_run
from shared.clock import utcnow
from shared.settings import Settings


class AnalyticsSettings(Settings):
    service: str = "analytics"
    # When the nightly snapshot is taken, read on the Copenhagen wall clock (NIGHTLY_CRON).
    nightly_cron: str = "0 2 * * *"
    # DASHBOARD_ENABLED=false switches /dashboard off (404). When on, it asks for the bearer
    # token of an analyst, guide or admin in every environment.
    dashboard_enabled: bool = True

    @field_validator("nightly_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        next_run(value, utcnow())  # raises with a readable message
        return value
