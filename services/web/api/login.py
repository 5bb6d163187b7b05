"""Logging in and out, and the front door (`/` sends a logged-in person to their first page)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.api.deps import NAV, SESSION_COOKIE, CsrfForm, Page, current_session
from services.web.domain import WebUser
from services.web.service.login import LoginFailed, OidcLogin, safe_next
from services.web.service.sessions import Sessions

router = APIRouter(tags=["login"], include_in_schema=False)
LOGIN_COOKIE = "vejviser_login"
LOGIN_SECONDS = 15 * 60
# The CSRF token of the forms shown before login (ask for a link, use a link): no session
# holds one yet, so the form carries the value of this cookie (double submit). SameSite=Lax
# keeps the cookie off another site's POST, so nobody can log a browser in as someone else.
FORM_COOKIE = "vejviser_login_form"
FORM_FIELD = "form_token"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def secure_cookies(page: Page) -> bool:
    return not page.settings.development


def anonymous_form(page: Page, template: str, status: int = 200, **context: Any) -> Response:
    """A page with a form for someone not logged in, carrying this browser's form token."""
    token = page.request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    link_minutes = round(page.settings.login_link_minutes)
    response = page.render(template, status=status, form_token=token, link_minutes=link_minutes, **context)
    if page.request.cookies.get(FORM_COOKIE) != token:
        response.set_cookie(
            FORM_COOKIE, token, path="/login", httponly=True, samesite="lax", secure=secure_cookies(page)
        )
    return response


def form_token_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(FORM_COOKIE)
    return bool(cookie) and hmac.compare_digest(cookie or "", sent)


def start_session(request: Request, page: Page, user: WebUser, next_path: str) -> Response:
    """Log the browser in as `user` (a new session, never the old one continued) and go on."""
    sessions: Sessions = request.app.state.sessions
    previous = current_session(request)
    if previous is not None:
        sessions.close(previous.id_hash)
    cookie, _ = sessions.open(user)
    response = see_other(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(page.settings.session_absolute_minutes * 60),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(page),
    )
    return response


@router.get("/", response_class=HTMLResponse)
def front_door(page: Page) -> Response:
    if page.user is None:
        return see_other("/login")
    first = next((item.href for item in NAV if page.user.role in item.roles), None)
    return see_other(first) if first else page.render("login_done.html")


@router.get("/login", response_class=HTMLResponse)
def login_page(page: Page, next: str = "/", logget_ud: bool = False) -> Response:
    if page.user is not None:
        return see_other(safe_next(next))
    return anonymous_form(page, "login.html", next_path=safe_next(next), logged_out=logget_ud)


@router.get("/login/start")
async def login_start(request: Request, page: Page, next: str = "/") -> Response:
    oidc: OidcLogin = request.app.state.oidc
    try:
        started = await oidc.begin(next)
    except (LoginFailed, OSError, ValueError) as exc:
        message = str(exc) if isinstance(exc, LoginFailed) else "Identitetsudbyderen svarer ikke. Prøv igen om lidt."
        return anonymous_form(page, "login.html", status=503, next_path=safe_next(next), problem=message)
    response = see_other(started.url)
    # Binds the callback to this browser: a login started elsewhere cannot be finished here.
    response.set_cookie(
        LOGIN_COOKIE,
        started.state,
        max_age=LOGIN_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(page),
    )
    return response


@router.get("/login/callback", response_class=HTMLResponse)
async def login_callback(request: Request, page: Page, code: str = "", state: str = "", error: str = "") -> Response:
    oidc: OidcLogin = request.app.state.oidc
    try:
        if error or not code or not state:
            raise LoginFailed("Login blev afbrudt hos identitetsudbyderen. Prøv igen.")
        if request.cookies.get(LOGIN_COOKIE) != state:
            raise LoginFailed("Login blev startet i en anden browser eller fane. Prøv at logge ind igen.")
        user, next_path = await oidc.finish(code, state)
    except LoginFailed as exc:
        response: Response = anonymous_form(page, "login.html", status=400, next_path="/", problem=str(exc))
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response
    response = start_session(request, page, user, next_path)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, page: Page, _form: CsrfForm) -> Response:
    session = current_session(request)
    if session is not None:
        sessions: Sessions = request.app.state.sessions
        sessions.close(session.id_hash)
    response = see_other("/login?logget_ud=1")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(page))
    return response
