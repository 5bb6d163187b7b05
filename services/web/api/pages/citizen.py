"""Borgeren (`/borgere/{ref}`): the citizen's referrals; contact data only on request with a
purpose (audited by referrals); erasure for guides and admins after a confirmation step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.api.deps import CONTACT_READERS, REFERRING, CsrfForm, LoggedIn, Page, PageContext, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.service import Pages, citizens
from services.web.service.answers import CitizenContact
from services.web.service.backends import BackendError
from shared.principal import Role
from shared.purposes import PURPOSES, PurposeCode

router = APIRouter(prefix="/borgere", dependencies=GUARDED)
# The purposes a person may give for opening contact data; the audit log records the code,
# so no free text (which could hold a name or a diagnosis) ever reaches it.
CONTACT_PURPOSES: dict[str, PurposeCode] = {
    code: code for code in ("contact_citizen", "referral_followup", "reception", "accompaniment")
}
Eraser = Annotated[WebUser, Staff(Role.guide, Role.admin)]


def _render(
    page: PageContext,
    pages: Pages,
    user: WebUser,
    citizen_ref: str,
    *,
    contact: CitizenContact | None = None,
    errors: list[tuple[str, str]] | None = None,
    purpose: str = "",
    problem: str = "",
    status: int = 200,
) -> HTMLResponse:
    view = citizens.citizen(pages, user, citizen_ref)
    return page.render(
        "pages/citizen.html",
        status=status,
        view=view,
        contact=contact,
        errors=errors or [],
        error_of=dict(reversed(errors or [])),
        purpose=purpose,
        purpose_word=PURPOSES[CONTACT_PURPOSES[purpose]].label_da if purpose in CONTACT_PURPOSES else "",
        purposes=[(code, PURPOSES[code].label_da) for code in CONTACT_PURPOSES.values()],
        problem=problem,
        reads_contact=user.reads_contact,
        erases=user.sees_all,
    )


@router.get("/{citizen_ref}", response_class=HTMLResponse, dependencies=[Staff(*REFERRING)])
def citizen_page(citizen_ref: str, page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user, citizen_ref)


@router.post("/{citizen_ref}/kontakt", response_class=HTMLResponse, dependencies=[Staff(*CONTACT_READERS)])
def read_contact(citizen_ref: str, form: CsrfForm, page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    purpose = str(form.get("purpose") or "").strip()
    if purpose not in CONTACT_PURPOSES:
        error = ("purpose", "Vælg hvorfor du skal se kontaktoplysningerne")
        return _render(page, pages, user, citizen_ref, errors=[error], purpose=purpose, status=422)
    try:
        found = citizens.contact(pages, user, citizen_ref, purpose)
    except BackendError as error:
        if error.status not in (404, 410):
            raise
        return _render(page, pages, user, citizen_ref, problem="Der er ingen kontaktoplysninger at vise.")
    return _render(page, pages, user, citizen_ref, contact=found, purpose=purpose)


@router.get("/{citizen_ref}/slet", response_class=HTMLResponse)
def confirm_erasure(citizen_ref: str, page: Page, user: Eraser, pages: PagesDep) -> HTMLResponse:
    return page.render("pages/citizen_erase.html", view=citizens.citizen(pages, user, citizen_ref))


@router.post("/{citizen_ref}/slet", response_class=HTMLResponse)
def erase(citizen_ref: str, form: CsrfForm, user: Eraser, pages: PagesDep) -> Response:
    citizens.erase(pages, user, citizen_ref)
    return RedirectResponse(f"/borgere/{citizen_ref}", status_code=303)
