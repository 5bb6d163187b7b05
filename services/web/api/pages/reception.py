"""Modtagelse (`/modtagelse`): a community contact's incoming referrals and their answers (accept,
propose a first visit, welcome, "kom ikke", decline with a reason), capacity, pausing mails, and
the contact's own details ("Dine kontaktoplysninger": correct them, say whether the public
catalogue may show them, or remove them after a confirmation page).

Every answer is a plain form (POST, then back to the page); a refused answer re-renders the page
with the error at the referral it belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web import contact_person, domain
from services.web.api.deps import CsrfForm, Page, PageContext, PageForbidden, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.api.pages.referral import DONE_WORDS, move_body
from services.web.domain import WebUser
from services.web.service import Pages, reception, worklist
from services.web.service.backends import BackendError
from shared.principal import Role

router = APIRouter(prefix="/modtagelse", dependencies=GUARDED)
Contact = Annotated[WebUser, Staff(Role.community_contact)]

DESK_DONE = {
    "kapacitet": "Pladserne er opdateret. Dem, der henviser, ser det med det samme.",
    "pause": "Mails er sat på pause. Nye henvisninger kan stadig ses her.",
    "genoptag": "Mails kommer igen fra nu af.",
    "kontakt": "Dine kontaktoplysninger er gemt.",
    "kontakt-fjernet": (
        "Dine kontaktoplysninger er fjernet fra fællesskabet i Vejviser. Du er logget ind, til du logger ud."
    ),
}
CONTACT_REFUSED = "Kataloget afviste oplysningerne. Tjek navn, e-mail og telefon"


def _render(
    page: PageContext,
    pages: Pages,
    user: WebUser,
    *,
    errors: list[tuple[str, str]] | None = None,
    problem: str = "",
    entered: Mapping[str, object] | None = None,
    status: int = 200,
) -> HTMLResponse:
    done = page.request.query_params.get("udfoert", "")
    return page.render(
        "pages/reception.html",
        status=status,
        reception=reception.reception(pages, user),
        errors=errors or [],
        error_of=dict(reversed(errors or [])),
        problem=problem,
        entered={key: str(value) for key, value in (entered or {}).items() if key != "csrf_token"},
        done=DONE_WORDS.get(done) or DESK_DONE.get(done, ""),
        action_words=domain.ACTION_WORDS,
        decline_words=domain.DECLINE_WORDS,
        capacity_choices=domain.CAPACITY_CHOICES,
        pause_weeks=domain.PAUSE_WEEKS,
    )


@router.get("", response_class=HTMLResponse)
def reception_page(page: Page, user: Contact, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user)


@router.post("/henvisninger/{referral_id}/{action}", response_class=HTMLResponse)
def answer(referral_id: str, action: str, form: CsrfForm, page: Page, user: Contact, pages: PagesDep) -> Response:
    if action not in domain.RECEPTION_MOVES:
        return _render(page, pages, user, problem="Den handling findes ikke.", status=404)
    # The fields are named as on the referral page; their ids carry the referral's, so the
    # error summary links to the right card.
    entered = {"referral_id": referral_id, **form}
    body, errors = move_body(action, form, pages.runtime.clock.now())
    if action == "reject" and body.get("reason") not in domain.DECLINE_WORDS:
        errors = [("reason", "Vælg hvorfor I siger nej")]
    try:
        if not errors:
            worklist.move(pages, user, referral_id, action, body)
    except BackendError as error:
        if error.conflict:
            return _render(page, pages, user, problem=error.message, status=409)
        if error.status != 422:
            raise
        errors = error.fields or [("moves", error.message)]
    if errors:
        errors = [(f"{field}-{referral_id}", message) for field, message in errors]
        return _render(page, pages, user, errors=errors, entered=entered, status=422)
    return RedirectResponse(f"/modtagelse?udfoert={action}", status_code=303)


def _own(user: WebUser, community_id: str) -> None:
    if community_id not in user.communities:
        raise PageForbidden()


@router.post("/faellesskaber/{community_id}/kapacitet", response_class=HTMLResponse)
def capacity(community_id: str, form: CsrfForm, page: Page, user: Contact, pages: PagesDep) -> Response:
    _own(user, community_id)
    choice = str(form.get(f"capacity-{community_id}") or "")
    if choice not in domain.CAPACITY_CHOICES:
        errors = [(f"capacity-{community_id}", "Vælg hvor meget plads der er")]
        return _render(page, pages, user, errors=errors, status=422)
    reception.set_capacity(pages, user, community_id, choice)
    return RedirectResponse("/modtagelse?udfoert=kapacitet", status_code=303)


@router.post("/faellesskaber/{community_id}/pause", response_class=HTMLResponse)
def pause(community_id: str, form: CsrfForm, page: Page, user: Contact, pages: PagesDep) -> Response:
    _own(user, community_id)
    weeks = str(form.get(f"weeks-{community_id}") or "")
    if weeks == "stop":
        reception.pause_mail(pages, user, community_id, None)
        return RedirectResponse("/modtagelse?udfoert=genoptag", status_code=303)
    if not weeks.isdigit() or int(weeks) not in domain.PAUSE_WEEKS:
        errors = [(f"weeks-{community_id}", "Vælg hvor længe mails skal holde pause")]
        return _render(page, pages, user, errors=errors, status=422)
    reception.pause_mail(pages, user, community_id, domain.pause_until(int(weeks), pages.runtime.clock.now()))
    return RedirectResponse("/modtagelse?udfoert=pause", status_code=303)


@router.post("/faellesskaber/{community_id}/kontakt", response_class=HTMLResponse)
def contact_details(community_id: str, form: CsrfForm, page: Page, user: Contact, pages: PagesDep) -> Response:
    _own(user, community_id)
    body, errors = contact_person.check(form, community_id)
    try:
        if not errors:
            reception.save_contact(pages, user, community_id, body)
    except BackendError as error:
        if error.status != 422:
            raise
        errors = [(contact_person.field_id("contact_name", community_id), CONTACT_REFUSED)]
    if errors:
        entered = {"contact_community": community_id, **form}
        return _render(page, pages, user, errors=errors, entered=entered, status=422)
    return RedirectResponse("/modtagelse?udfoert=kontakt", status_code=303)


@router.get("/faellesskaber/{community_id}/kontakt/fjern", response_class=HTMLResponse)
def remove_contact_page(community_id: str, page: Page, user: Contact, pages: PagesDep) -> HTMLResponse:
    _own(user, community_id)
    return page.render("pages/reception_contact_remove.html", desk=reception.desk(pages, user, community_id))


@router.post("/faellesskaber/{community_id}/kontakt/fjern", response_class=HTMLResponse)
def remove_contact(community_id: str, form: CsrfForm, page: Page, user: Contact, pages: PagesDep) -> Response:
    _own(user, community_id)
    reception.remove_contact(pages, user, community_id)
    return RedirectResponse("/modtagelse?udfoert=kontakt-fjernet", status_code=303)
