"""HTTP API of the referrals service, one module per resource; `ROUTERS` in the order the
OpenAPI document lists them (ingestion, built on the runtime, is added by `main.py`)."""

from __future__ import annotations

from services.referrals.api import (
    accompaniment,
    citizens,
    communities,
    outreach,
    privacy,
    referrals,
    referrers,
    welcome,
)

ROUTERS = (
    referrers.router,
    citizens.router,
    referrals.router,
    accompaniment.router,
    outreach.router,
    communities.router,
    welcome.router,
    privacy.router,
)
