"""Henvisning (`/henvis/...`): the referral wizard, one question a page, its answers in a
server-side draft; nothing reaches the referrals service before "Send henvisning".
`/henvis?borger=<citizen_ref>` ("Henvis igen") starts it for a registered citizen."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web import wizard
from services.web.api.deps import FOLLOWING, REFERRING, CsrfForm, LoggedIn, Page, PageContext, PageForbidden, Staff
from services.web.api.pages.deps import GUARDED, DraftOwner, PagesDep
from services.web.api.pages.wizard_views import check_rows, step_context
from services.web.domain import WebUser
from services.web.drafts import DraftAnswers
from services.web.service import Pages
from services.web.service import referral_wizard as use
from services.web.service.answers import Referral
from services.web.service.backends import BackendError
from services.web.service.referral_wizard import Owner

router = APIRouter(prefix="/henvis", dependencies=GUARDED)


def _form(form: CsrfForm) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _expired(page: PageContext) -> HTMLResponse:
    return page.render("pages/wizard/expired.html", status=404)


def _render_start(page: PageContext, user: WebUser, citizen_ref: str, errors: list[tuple[str, str]]) -> HTMLResponse:
    return page.render(
        "pages/wizard/start.html",
        status=422 if errors else 200,
        refers=user.refers,
        citizen_ref=citizen_ref,
        errors=errors,
        error_of=dict(errors),
    )


@router.get("", response_class=HTMLResponse)
def start_page(page: Page, user: LoggedIn, borger: str = "") -> HTMLResponse:
    citizen_ref = borger.strip().lower()[:80]
    if citizen_ref and not wizard.CITIZEN_REF.match(citizen_ref):
        return _render_start(page, user, citizen_ref, [("citizen_ref", "Borgerens reference er ikke gyldig")])
    return _render_start(page, user, citizen_ref, [])


@router.post("", response_class=HTMLResponse, dependencies=[Staff(*REFERRING)])
def start(form: CsrfForm, page: Page, owner: DraftOwner, pages: PagesDep) -> Response:
    if not owner.user.refers:
        raise PageForbidden()
    community = use.find_community(pages, owner.user, str(form.get("community_id") or "").strip())
    citizen_ref = str(form.get("citizen_ref") or "").strip()
    citizen: wizard.Answers | None = None
    if citizen_ref:
        known = {"citizen_mode": "existing", "citizen_ref": citizen_ref}
        citizen, errors = use.check_step(pages, owner.user, "borger", known)
        if errors:
            return _render_start(page, owner.user, citizen_ref, errors)
    draft_id = use.start(pages, owner, community, citizen)
    return RedirectResponse(f"/henvis/{draft_id}/{'behov' if citizen else 'borger'}", status_code=303)


@router.get("/ikke-samtykke", response_class=HTMLResponse)
def no_consent(page: Page, user: LoggedIn) -> HTMLResponse:
    return page.render("pages/wizard/no_consent.html")


@router.get("/kvittering/{referral_id}", response_class=HTMLResponse, dependencies=[Staff(*FOLLOWING)])
def receipt(referral_id: str, page: Page, user: LoggedIn, pages: PagesDep, ensomhed: str = "") -> HTMLResponse:
    referral = pages.referrals.get(user, f"/v1/referrals/{referral_id}", Referral)
    return page.render("pages/wizard/receipt.html", referral=referral, loneliness=ensomhed)


@router.get("/{draft_id}/tjek", response_class=HTMLResponse)
def check_page(draft_id: str, page: Page, owner: DraftOwner, pages: PagesDep) -> Response:
    draft = use.load(pages, owner, draft_id)
    if draft is None:
        return _expired(page)
    missing = wizard.first_unanswered(draft.answers)
    if missing:
        return RedirectResponse(f"/henvis/{draft_id}/{missing}", status_code=303)
    return _render_check(page, draft, [])


def _render_check(
    page: PageContext, draft: DraftAnswers, errors: list[tuple[str, str]], status: int = 200
) -> HTMLResponse:
    return page.render(
        "pages/wizard/check.html",
        status=status,
        **step_context(draft, wizard.BY_SLUG["tjek"], errors),
        rows=check_rows(draft),
    )


@router.post("/{draft_id}/send", response_class=HTMLResponse)
def send(draft_id: str, form: CsrfForm, page: Page, owner: DraftOwner, pages: PagesDep) -> Response:
    draft = use.load(pages, owner, draft_id)
    if draft is None:
        return _expired(page)
    if wizard.first_unanswered(draft.answers):
        return RedirectResponse(f"/henvis/{draft_id}/tjek", status_code=303)
    try:
        sent = use.send(pages, owner, draft)
    except BackendError as error:
        if error.status not in (409, 422):
            raise
        errors = [(f"ret-{_step_of(field)}", message) for field, message in error.fields] or [
            ("send-button", error.message)
        ]
        return _render_check(page, draft, errors, status=error.status)
    receipt = f"/henvis/kvittering/{sent.referral.referral_id}"
    if sent.loneliness_saved is not None:
        receipt += "?ensomhed=" + ("gemt" if sent.loneliness_saved else "fejl")
    return RedirectResponse(receipt, status_code=303)


def _step_of(field: str) -> str:
    for slug, fields in wizard.STEP_FIELDS.items():
        if field in fields:
            return slug
    return "faellesskab"


@router.get("/{draft_id}/{slug}", response_class=HTMLResponse)
def step_page(draft_id: str, slug: str, page: Page, owner: DraftOwner, pages: PagesDep) -> Response:
    if slug not in wizard.BY_SLUG:
        return _expired(page)
    draft = use.load(pages, owner, draft_id)
    if draft is None:
        return _expired(page)
    if not wizard.asks(draft.answers, slug):
        return RedirectResponse(f"/henvis/{draft_id}/tjek", status_code=303)
    return _render_step(page, pages, owner, draft, slug, [])


def _render_step(
    page: PageContext, pages: Pages, owner: Owner, draft: DraftAnswers, slug: str, errors: list[tuple[str, str]]
) -> HTMLResponse:
    extra: dict[str, object] = {}
    if slug == "foelgeskab":
        extra["companions"] = use.named_companions(pages, owner.user)
    if slug == "behov":
        extra["offers_note_sharing"] = wizard.offers_note_sharing(draft.answers)
    if slug == "ensomhed":
        extra.update(questions=list(zip(wizard.UCLA_FIELDS, wizard.UCLA_QUESTIONS, strict=True)))
        extra.update(scale=wizard.UCLA_ANSWERS)
    if slug == "faellesskab":
        query = (page.request.query_params.get("q") or "").strip()[:200]
        extra.update(query=query, choices=use.community_choices(pages, owner.user, draft, query))
    return page.render(
        f"pages/wizard/{slug}.html",
        status=422 if errors else 200,
        returning=page.request.query_params.get("tilbage_til") == "tjek",
        **step_context(draft, wizard.BY_SLUG[slug], errors),
        **extra,
    )


@router.post("/{draft_id}/{slug}", response_class=HTMLResponse)
def answer(draft_id: str, slug: str, form: CsrfForm, page: Page, owner: DraftOwner, pages: PagesDep) -> Response:
    draft = use.load(pages, owner, draft_id)
    if draft is None or slug not in wizard.BY_SLUG or slug == "tjek":
        return _expired(page)
    if not wizard.asks(draft.answers, slug):
        return RedirectResponse(f"/henvis/{draft_id}/tjek", status_code=303)
    posted = _form(form)
    updates, errors = use.check_step(pages, owner.user, slug, posted, draft.answers)
    if errors:
        draft.answers.update(updates)  # shown again as typed, saved only once valid
        return _render_step(page, pages, owner, draft, slug, errors)
    if slug == "samtykke" and updates.get("consent") == "nej":
        use.discard(pages, draft_id)
        return RedirectResponse("/henvis/ikke-samtykke", status_code=303)
    use.save(pages, owner, draft, {**updates, f"done_{slug}": True})
    following = wizard.next_slug(draft.answers, slug)
    if posted.get("tilbage_til") == "tjek" and not wizard.first_unanswered(draft.answers):
        following = "tjek"
    return RedirectResponse(f"/henvis/{draft_id}/{following}", status_code=303)
