"""Mine følgeopgaver (`/foelgeopgaver`): accompaniment requests an ambassador may take or decline,
the ones they took (meeting details, "fulgt med"), and the referrals they made themselves.
Plain forms: each move is a POST and a redirect back; a request someone else took first
re-renders the list with a Danish explanation (409)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.api.deps import CsrfForm, Page, PageContext, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service import accompaniment as use
from services.web.service.backends import BackendError
from shared.principal import Role

router = APIRouter(prefix="/foelgeopgaver", dependencies=GUARDED)

# Ambassadors and professionals who offer accompaniment take tasks; guides and admins look.
Companion = Annotated[WebUser, Staff(Role.ambassador, Role.professional, Role.guide, Role.admin)]

DONE_WORDS = {
    "arrange_accompaniment": "Du har taget opgaven. Du finder den under “Dine aftaler”.",
    "decline_accompaniment": "Opgaven er fjernet fra din liste.",
    "accompany": "Tak! Det er registreret, at du har fulgt borgeren derhen.",
}


def _render(page: PageContext, pages: Pages, user: WebUser, *, problem: str = "", status: int = 200) -> HTMLResponse:
    done = "" if problem else DONE_WORDS.get(page.request.query_params.get("udfoert", ""), "")
    return page.render(
        "pages/accompaniment.html",
        status=status,
        board=use.board(pages, user),
        takes=use.takes_tasks(user),
        problem=problem,
        done=done,
    )


@router.get("", response_class=HTMLResponse)
def accompaniment_page(page: Page, user: Companion, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user)


@router.post("/{referral_id}/{action}", response_class=HTMLResponse)
def make_move(referral_id: str, action: str, form: CsrfForm, page: Page, user: Companion, pages: PagesDep) -> Response:
    if action not in use.MOVES or not use.takes_tasks(user):
        return _render(page, pages, user, problem="Den handling findes ikke.", status=404)
    try:
        use.move(pages, user, referral_id, action)
    except BackendError as error:
        problem = use.refusal_words(action, error)
        if problem is None:
            raise
        return _render(page, pages, user, problem=problem, status=409)
    return RedirectResponse(f"/foelgeopgaver?udfoert={action}", status_code=303)
