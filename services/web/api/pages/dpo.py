"""The data protection officer's pages, for dpo and admin: Revision (`/revision`, searching
the audit log: who read what about which citizen, when and why) and Indsigt (`/indsigt`, a
citizen's access request: the Danish summary on screen and everything as a JSON file).

Both are plain GET forms (a search changes nothing; the referrals service itself records
each export in the audit log), so they work without JavaScript and can be bookmarked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.web.api.deps import Page, PageContext, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.service import Pages, dpo
from services.web.service.backends import BackendError
from shared.principal import Role

router = APIRouter(dependencies=GUARDED)
Officer = Annotated[WebUser, Staff(Role.dpo, Role.admin)]
# Why an access request finds nothing, said on the field (the officer types the next one).
EXPORT_REFUSALS = {
    404: "Der findes ingen borger med den reference i Vejviser. Tjek referencen.",
    410: "Borgeren er slettet i Vejviser. Der er ingen oplysninger at udlevere, ud over at de er slettet.",
}


@router.get("/revision", response_class=HTMLResponse)
def audit_page(page: Page, user: Officer, pages: PagesDep) -> HTMLResponse:
    search, errors = dpo.read_search(page.request.query_params)
    found = dpo.search_audit(pages, user, search) if search.asked and not errors else None
    return page.render(
        "pages/revision.html",
        status=422 if errors else 200,
        search=search,
        found=found,
        purposes=list(dpo.PURPOSE_WORDS.items()),
        errors=errors,
        error_of=dict(reversed(errors)),
    )


@dataclass(frozen=True)
class AccessRequest:
    """What the Indsigt form came to: the export, or the reason there is none and its status."""

    entered: str
    export: dpo.Export | None = None
    problem: str = ""
    status: int = 200


def _access_request(pages: Pages, user: WebUser, entered: str) -> AccessRequest:
    entered = entered.strip()
    citizen_ref, problem = dpo.read_reference(entered, "citizen_ref")
    if problem:
        return AccessRequest(entered, problem=problem, status=422)
    if not citizen_ref:
        return AccessRequest(entered)
    try:
        return AccessRequest(entered, dpo.export(pages, user, citizen_ref))
    except BackendError as error:
        if error.status in EXPORT_REFUSALS:
            return AccessRequest(entered, problem=EXPORT_REFUSALS[error.status], status=error.status)
        raise


def _render(page: PageContext, asked: AccessRequest) -> HTMLResponse:
    errors = [("borger", asked.problem)] if asked.problem else []
    return page.render("pages/indsigt.html", status=asked.status, asked=asked, errors=errors, error_of=dict(errors))


@router.get("/indsigt", response_class=HTMLResponse)
def access_request_page(page: Page, user: Officer, pages: PagesDep, borger: str = "") -> HTMLResponse:
    return _render(page, _access_request(pages, user, borger))


@router.get("/indsigt/eksport", response_class=Response)
def access_request_file(page: Page, user: Officer, pages: PagesDep, borger: str = "") -> Response:
    asked = _access_request(pages, user, borger)
    if asked.export is None:  # the page, with the reason on the field
        return _render(page, asked)
    return Response(
        asked.export.document,
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{asked.export.filename}"'},
    )
