"""The pages: the referring side (issue 11), the volunteers', the communities' and the
programme lead's (issue 12), and the evaluation and the data protection officer's (issue 13)."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api.pages import (
    accompaniment,
    citizen,
    dpo,
    evaluation,
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
    evaluation.router,
    dpo.router,
]
