"""Henvisningen (`/henvisninger/{id}`): the timeline and only the moves the state machine
allows this person; a move the referrals service refuses as stale (409) is explained on the
page, and another professional's referral is the 403 page. The proposed first visit and the
contact the citizen shared with the community are shown to those the referrals service gives
them to, and so is the referrer's note (to the referrer and the staff, and to the community's
contact and the companion when the referrer shared it with the citizen's consent); after
"kom ikke" the referrer may refer the citizen again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web import domain
from services.web.api.deps import FOLLOWING, CsrfForm, LoggedIn, Page, PageContext, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.service import Pages, worklist
from services.web.service.backends import BackendError
from services.web.service.referral_wizard import named_companions

router = APIRouter(prefix="/henvisninger", dependencies=[*GUARDED, Staff(*FOLLOWING)])

DONE_WORDS = {
    "accept": "Henvisningen er accepteret.",
    "arrange_accompaniment": "Følgeskabet er aftalt.",
    "accompany": "Det er registreret, at borgeren er fulgt derhen.",
    "welcome": "Det er registreret, at borgeren er budt velkommen.",
    "confirm_participation": "Deltagelsen er registreret.",
    "reject": "Henvisningen er afvist.",
    "cancel": "Henvisningen er annulleret.",
    "propose_visit": "Forslaget til første besøg er sendt.",
    "no_show": "Det er registreret, at borgeren ikke kom. Den, der henviste, får besked.",
}


def _render(
    page: PageContext,
    pages: Pages,
    user: WebUser,
    referral_id: str,
    *,
    errors: list[tuple[str, str]] | None = None,
    problem: str = "",
    status: int = 200,
    entered: Mapping[str, object] | None = None,
) -> HTMLResponse:
    view = worklist.referral(pages, user, referral_id)
    done = page.request.query_params.get("udfoert", "")
    return page.render(
        "pages/referral.html",
        status=status,
        view=view,
        referral=view.referral,
        errors=errors or [],
        error_of=dict(reversed(errors or [])),
        problem=problem,
        entered={key: str(value) for key, value in (entered or {}).items() if key != "csrf_token"},
        done=DONE_WORDS.get(done, ""),
        # the referrer and the staff always read the note; others only when it was shared
        own_note=domain.sees_note(user, view.referral.referrer_id),
        refer_again=domain.refers_again(user, view.referral.status, view.referral.referrer_id),
        action_words=domain.ACTION_WORDS,
        rejection_words=domain.REJECTION_WORDS,
        event_word=domain.event_word,
        status_word=domain.status_word,
        companions=named_companions(pages, user) if "arrange_accompaniment" in view.moves else {},
        actor_of=domain.actor_of,
    )


@router.get("/{referral_id}", response_class=HTMLResponse)
def referral_page(referral_id: str, page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user, referral_id)


def move_body(
    action: str, form: Mapping[str, object], now: datetime, visit_fields: tuple[str, str] = domain.VISIT_FIELDS
) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """The move's request body from its form, or the fields a person must fix."""
    value = {key: str(form.get(key) or "").strip() for key in ("companion_id", "reason", "weeks", "still")}
    if action == "propose_visit":
        day, clock = (str(form.get(name) or "") for name in visit_fields)
        visit_at, errors = domain.visit_time(day, clock, now, visit_fields)
        return ({"visit_at": visit_at.isoformat()} if visit_at else {}), errors
    if action == "arrange_accompaniment":
        if not value["companion_id"]:
            return {}, [("companion_id", "Vælg hvem der skal følge borgeren")]
        return {"companion_id": value["companion_id"]}, []
    if action == "reject":
        if value["reason"] not in domain.REJECTION_WORDS:
            return {}, [("reason", "Vælg hvorfor henvisningen afvises")]
        return {"reason": value["reason"]}, []
    if action == "confirm_participation":
        errors = []
        if value["weeks"] not in ("4", "12"):
            errors.append(("weeks", "Vælg om det er efter 4 eller 12 uger"))
        if value["still"] not in ("ja", "nej"):
            errors.append(("still", "Vælg om borgeren stadig deltager"))
        return {"weeks_after": int(value["weeks"] or 0), "still_participating": value["still"] == "ja"}, errors
    return {}, []


@router.post("/{referral_id}/{action}", response_class=HTMLResponse)
def make_move(referral_id: str, action: str, form: CsrfForm, page: Page, user: LoggedIn, pages: PagesDep) -> Response:
    if action not in domain.ACTION_WORDS:
        return _render(page, pages, user, referral_id, problem="Den handling findes ikke.", status=404)
    body, errors = move_body(action, form, pages.runtime.clock.now())
    if errors:
        return _render(page, pages, user, referral_id, errors=errors, status=422, entered=form)
    try:
        worklist.move(pages, user, referral_id, action, body)
    except BackendError as error:
        if error.conflict:
            return _render(page, pages, user, referral_id, problem=error.message, status=409)
        if error.status == 422:
            fields = error.fields or [("moves", error.message)]
            return _render(page, pages, user, referral_id, errors=fields, status=422, entered=form)
        raise
    return RedirectResponse(f"/henvisninger/{referral_id}?udfoert={action}", status_code=303)
