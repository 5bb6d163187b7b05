"""Parathed (`/parathed`): guides and admins see each referrer's readiness level, trainings
and referrals, and record a training (which may lift the level to "Trænet")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.api.deps import CsrfForm, Page, PageContext, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.service import Pages, readiness
from services.web.service.backends import BackendError
from shared.principal import Role
from shared.profile import profile

router = APIRouter(prefix="/parathed", dependencies=GUARDED)
Guide = Annotated[WebUser, Staff(Role.guide, Role.admin)]
FORM_FIELDS = ("referrer", "trained_on", "topic")


def _render(
    page: PageContext,
    pages: Pages,
    user: WebUser,
    *,
    entered: Mapping[str, str] | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    params = page.request.query_params
    found = readiness.readiness(pages, user, params.get("parathed", ""), params.get("rolle", ""))
    recorded = next((r for r in found.everyone if r.actor_id == params.get("registreret")), None)
    chosen = params.get("henviser", "")
    return page.render(
        "pages/readiness.html",
        status=status,
        found=found,
        levels=list(readiness.READINESS_WORDS.items()),
        level_choices=[*readiness.READINESS_WORDS.items(), ("ingen", readiness.NO_LEVEL)],
        role_choices=list(readiness.ROLE_WORDS.items()),
        no_level=readiness.NO_LEVEL,
        topics=[(topic.code, topic.label) for topic in profile().training_topics],
        people=[(r.actor_id, f"{r.display_name} ({r.role_word.lower()})") for r in found.everyone],
        entered=entered or {"referrer": chosen},
        errors=errors or [],
        error_of=dict(reversed(errors or [])),
        recorded=recorded,
    )


@router.get("", response_class=HTMLResponse)
def readiness_page(page: Page, user: Guide, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user)


@router.post("/traening", response_class=HTMLResponse)
def record_training(form: CsrfForm, page: Page, user: Guide, pages: PagesDep) -> Response:
    entered = {name: str(form.get(name) or "").strip() for name in FORM_FIELDS}
    known = {r.actor_id for r in readiness.readiness(pages, user, "", "").everyone}
    training, errors = readiness.read_training(entered, known, pages.runtime.clock.now())
    if not errors:
        try:
            readiness.record_training(pages, user, **training)
        except BackendError as error:
            if error.status != 422:
                raise
            errors = error.fields or [("trained_on", error.message)]
    if errors:
        return _render(page, pages, user, entered=entered, errors=errors, status=422)
    referrer = quote(training["referrer"], safe=":")
    return RedirectResponse(f"/parathed?registreret={referrer}#henviser-{referrer}", status_code=303)
