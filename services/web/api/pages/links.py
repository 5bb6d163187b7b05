"""One-click links from mails (`/l/{token}`): GET shows what the link will do, the button (POST)
does it as the person the link was made for (shared/links.py); no login needed.

There is no session, so no CSRF token: the signed token in the address is the capability. A
POST whose Origin (or, without one, Referer) names another site is refused all the same, so a
page elsewhere cannot press the button for someone who has the link."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from services.web.api.deps import PageContext, PageForbidden
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.service import links
from services.web.service.links import LinkPage
from services.web.wizard import UCLA_ANSWERS, UCLA_FIELDS, UCLA_QUESTIONS

router = APIRouter(prefix="/l", dependencies=GUARDED)


def _render(request: Request, shown: LinkPage, token: str = "") -> HTMLResponse:
    # Whoever holds the link is not logged in as anyone: no name, no navigation, no CSRF token.
    context = PageContext(request, None, "", request.app.state.settings, request.app.state.templates)
    return context.render(
        "pages/link.html",
        status=shown.status,
        shown=shown,
        token=token,
        questions=list(zip(UCLA_FIELDS, UCLA_QUESTIONS, strict=True)),
        scale=UCLA_ANSWERS,
        errors=shown.errors,
        error_of=dict(reversed(shown.errors)),
        pause_weeks=[("1", "1 uge"), ("2", "2 uger"), ("4", "4 uger")],
    )


def same_site(request: Request) -> bool:
    """A POST from our own pages (or from a browser that sends neither header)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and urlsplit(origin).netloc == request.url.netloc
    referer = request.headers.get("referer")
    return referer is None or urlsplit(referer).netloc == request.url.netloc


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, request: Request, pages: PagesDep) -> HTMLResponse:
    return _render(request, links.open_link(pages, token))


async def same_site_form(request: Request) -> FormData:
    """The POSTed form, if it comes from our own page."""
    if not same_site(request):
        raise PageForbidden("Knappen skal trykkes på Vejvisers egen side. Åbn linket fra mailen igen.")
    return await request.form()


@router.post("/{token}", response_class=HTMLResponse)
def follow(
    token: str, request: Request, form: Annotated[FormData, Depends(same_site_form)], pages: PagesDep
) -> HTMLResponse:
    return _render(request, links.follow_link(pages, token, form), token)


@router.post("/{token}/ensomhed", response_class=HTMLResponse)
def loneliness(
    token: str, request: Request, form: Annotated[FormData, Depends(same_site_form)], pages: PagesDep
) -> HTMLResponse:
    answers = {key: value for key, value in form.items() if isinstance(value, str)}
    return _render(request, links.measure_loneliness(pages, token, answers), token)
