"""The pages: the referring side (issue 11), and the volunteers', the communities' and the
programme lead's (issue 12)."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api.pages import (
    accompaniment,
    citizen,
    links,
    overview,
    readiness,
    reception,
    referral,
    referral_wizard,
    search,
    settings,
    worklist,
)

ROUTERS: list[APIRouter] = [
    search.router,
    referral_wizard.router,
    worklist.router,
    referral.router,
    citizen.router,
    accompaniment.router,
    reception.router,
    links.router,
    overview.router,
    settings.router,
    readiness.router,
]
