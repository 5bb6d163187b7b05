"""Settings of the catalogue service (environment variables on top of shared Settings)."""

from __future__ import annotations

from shared.settings import Settings


class CatalogueSettings(Settings):
    service: str = "catalogue"
    # Public HSDS API: each client IP may make `hsds_burst` requests at once, refilled at
    # `hsds_rate_per_second`.
    hsds_rate_per_second: float = 5.0
    hsds_burst: int = 60
