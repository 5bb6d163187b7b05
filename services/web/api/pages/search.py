"""Søg fællesskaber (`/soeg`) and Fællesskabets kort (`/faellesskaber/{id}`), with the
printed hand-out that is recorded as outreach."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.api.deps import CsrfForm, LoggedIn, Page
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import SEES_COMMUNITY_CONTACT, pending_words
from services.web.service import search
from services.web.service.search import FLAGS, WEEKDAYS, SearchForm

router = APIRouter(dependencies=GUARDED)


@router.get("/soeg", response_class=HTMLResponse)
def search_page(page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    params = page.request.query_params
    form = SearchForm.parse({key: params.getlist(key) for key in params})
    result = search.search(pages, user, form)
    # htmx asks for the results only (live search); without JavaScript the whole page comes.
    partial = page.request.headers.get("HX-Request") == "true" and page.request.headers.get("HX-Target") == "results"
    template = "pages/_results.html" if partial else "pages/search.html"
    focus = partial and page.request.headers.get("HX-Trigger") == "search-button"
    return page.render(
        template,
        result=result,
        form=form,
        weekdays=WEEKDAYS,
        flags=FLAGS,
        pending_words=pending_words,
        focus_results=focus,
    )


@router.get("/faellesskaber/{community_id}", response_class=HTMLResponse)
def card_page(community_id: str, page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    card = search.community(pages, user, community_id)
    link = f"{page.settings.public_base_url.rstrip('/')}/faellesskaber/{community_id}"
    return page.render(
        "pages/community.html",
        card=card,
        link=link,
        show_contact=user.role in SEES_COMMUNITY_CONTACT,
        pending_words=pending_words,
        refers=user.refers,
    )


@router.post("/faellesskaber/{community_id}/udskriv", response_class=HTMLResponse)
def print_handout(community_id: str, form: CsrfForm, user: LoggedIn, pages: PagesDep) -> Response:
    card = search.community(pages, user, community_id)
    if user.refers:
        search.record_handout(pages, user, card)
    return RedirectResponse(f"/faellesskaber/{community_id}/udskrift", status_code=303)


@router.get("/faellesskaber/{community_id}/udskrift", response_class=HTMLResponse)
def handout_page(community_id: str, page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    return page.render("pages/handout.html", card=search.community(pages, user, community_id), user=user)
