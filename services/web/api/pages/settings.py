"""Indstillinger (`/indstillinger`) and Beskeder (`/beskeder`): a person's notification
preferences (channels, digest, quiet hours, a pause, the daily cap) and their inbox, both
through the notifications service as that person. Plain forms, POST/redirect/GET."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web import preferences as form_rules
from services.web.api.deps import CsrfForm, LoggedIn, Page, PageContext
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.service import inbox, preferences
from services.web.service.backends import BackendError
from shared.principal import Role

router = APIRouter(dependencies=GUARDED)

MESSAGE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
FIELDS = ("email", "sms", "digest", "quiet", "quiet_from", "quiet_to", "paused_until", "daily_cap")


def _page_number(text: str) -> int:
    return min(int(text), 10_000) if text.isdigit() and int(text) > 0 else 1


def _render_settings(
    page: PageContext,
    settings: preferences.Settings,
    *,
    fields: Mapping[str, str] | None = None,
    errors: list[tuple[str, str]] | None = None,
    saved: bool = False,
    status: int = 200,
) -> HTMLResponse:
    return page.render(
        "pages/settings.html",
        status=status,
        settings=settings,
        fields=fields if fields is not None else settings.choices.fields(),
        errors=errors or [],
        error_of=dict(reversed(errors or [])),
        saved=saved,
        max_cap=form_rules.MAX_DAILY_CAP,
        community_contact=page.user is not None and page.user.role == Role.community_contact,
    )


@router.get("/indstillinger", response_class=HTMLResponse)
def settings_page(page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    current = preferences.settings(pages, user)
    return _render_settings(page, current, saved=page.request.query_params.get("gemt") == "ja")


@router.post("/indstillinger", response_class=HTMLResponse)
def save_settings(form: CsrfForm, page: Page, user: LoggedIn, pages: PagesDep) -> Response:
    current = preferences.settings(pages, user)
    entered = {name: str(form.get(name) or "") for name in FIELDS}
    now = pages.runtime.clock.now()
    choices, errors = form_rules.read_form(entered, now, sms_available=current.sms_available, current=current.choices)
    if choices is None:
        return _render_settings(page, current, fields=entered, errors=errors, status=422)
    try:
        preferences.save(pages, user, current, choices)
    except BackendError as error:
        if error.status != 422:
            raise
        refused = error.fields or [("email", error.message)]
        return _render_settings(page, current, fields=entered, errors=refused, status=422)
    return RedirectResponse("/indstillinger?gemt=ja", status_code=303)


@router.get("/beskeder", response_class=HTMLResponse)
def inbox_page(page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    params = page.request.query_params
    unread_only = params.get("kun") == "ulaeste"
    shown = inbox.inbox(pages, user, _page_number(params.get("side", "")), unread_only)

    def href(number: int) -> str:
        return "/beskeder?" + urlencode([("kun", "ulaeste")] * unread_only + [("side", str(number))])

    return page.render(
        "pages/inbox.html",
        inbox=shown,
        marked=params.get("laest") == "ja",
        previous_href=href(shown.page - 1) if shown.page > 1 else None,
        next_href=href(shown.page + 1) if shown.has_next else None,
    )


@router.post("/beskeder/{message_id}/laest", response_class=RedirectResponse, status_code=303)
def mark_read(message_id: str, form: CsrfForm, user: LoggedIn, pages: PagesDep) -> Response:
    if not MESSAGE_ID.fullmatch(message_id):
        raise HTTPException(404)
    inbox.mark_read(pages, user, message_id)
    back = [("kun", "ulaeste")] * (form.get("kun") == "ulaeste") + [("side", str(_page_number(str(form.get("side")))))]
    return RedirectResponse(f"/beskeder?{urlencode([*back, ('laest', 'ja')])}#besked-{message_id}", status_code=303)
