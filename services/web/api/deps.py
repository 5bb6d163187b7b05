"""The dependencies every page uses: who is logged in (`LoggedIn`, `Staff(...)`), the page's
context with its `render()` (`Page`), and the CSRF check of every POST (`CsrfForm`)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from services.web.domain import WebUser
from services.web.service.inbox import unread_count
from services.web.service.sessions import ActiveSession, Sessions
from services.web.settings import WebSettings
from shared.principal import Role
from shared.profile import profile
from shared.responses import answers

SESSION_COOKIE = "vejviser_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "HX-CSRF-Token"
UNRESOLVED = object()


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str
    roles: frozenset[Role]


# The main navigation; each item for the roles whose work it is. (Beskeder and Indstillinger
# are in the header, beside the user's name, for everyone.) The data protection officer's
# work is the audit log and access requests, so they start at Revision and have no search.
NAV = (
    NavItem("Søg fællesskaber", "/soeg", frozenset(Role) - {Role.municipal_system, Role.dpo}),
    NavItem(
        "Mine henvisninger", "/henvisninger", frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador})
    ),
    NavItem("Mine følgeopgaver", "/foelgeopgaver", frozenset({Role.ambassador})),
    NavItem("Modtagelse", "/modtagelse", frozenset({Role.community_contact})),
    NavItem("Parathed", "/parathed", frozenset({Role.guide, Role.admin})),
    NavItem("Overblik", "/overblik", frozenset({Role.guide, Role.admin, Role.analyst})),
    NavItem("Evaluering", "/evaluering", frozenset({Role.guide, Role.admin, Role.analyst})),
    NavItem("Revision", "/revision", frozenset({Role.dpo, Role.admin})),
    NavItem("Indsigt", "/indsigt", frozenset({Role.dpo, Role.admin})),
)


class LoginRequired(Exception):
    """The page needs a logged-in user; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageForbidden(Exception):
    """The user may not see this; answered with the 403 page."""

    def __init__(self, message: str = "") -> None:
        self.message = message


def current_session(request: Request) -> ActiveSession | None:
    """The request's live session (looked up once per request)."""
    session: ActiveSession | object | None = getattr(request.state, "web_session", UNRESOLVED)
    if session is UNRESOLVED:
        cookie = request.cookies.get(SESSION_COOKIE)
        sessions: Sessions = request.app.state.sessions
        session = request.state.web_session = sessions.resolve(cookie) if cookie else None
    return session if isinstance(session, ActiveSession) else None


@dataclass
class PageContext:
    request: Request
    user: WebUser | None
    csrf_token: str
    settings: WebSettings
    templates: Jinja2Templates = field(repr=False)

    def nav(self) -> list[dict[str, Any]]:
        if self.user is None:
            return []
        path = self.request.url.path
        return [
            {"text": item.text, "href": item.href, "current": path == item.href or path.startswith(item.href + "/")}
            for item in NAV
            if self.user.role in item.roles
        ]

    def unread(self) -> int | None:
        if self.user is None:
            return None
        return unread_count(self.request.app.state.pages, self.user)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        values = {
            "user": self.user,
            "unread": self.unread(),
            "csrf_token": self.csrf_token,
            "settings": self.settings,
            "programme": profile().programme,
            "nav": self.nav(),
            **context,
        }
        return self.templates.TemplateResponse(self.request, template, values, status_code=status)


def page_context(request: Request) -> PageContext:
    session = current_session(request)
    return PageContext(
        request=request,
        user=session.user if session else None,
        csrf_token=session.csrf_token if session else "",
        settings=request.app.state.settings,
        templates=request.app.state.templates,
    )


def here(request: Request) -> str:
    """The path (and query) to come back to after logging in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@answers(303, authentication="session")
def require_login(request: Request) -> WebUser:
    session = current_session(request)
    if session is None:
        raise LoginRequired(here(request))
    return session.user


Page = Annotated[PageContext, Depends(page_context)]
LoggedIn = Annotated[WebUser, Depends(require_login)]


# Who may use the pages over a backing service's API, the same roles as that API lets in (so a
# refusal comes at the web's own door, and the OpenAPI document and access matrix say so).
REFERRING = (Role.guide, Role.admin, Role.professional, Role.ambassador)
FOLLOWING = (*REFERRING, Role.community_contact)
CONTACT_READERS = (Role.guide, Role.admin, Role.professional)


def Staff(*roles: Role) -> Any:
    """`user: Annotated[WebUser, Staff(Role.guide, Role.admin)]`: other roles get the 403 page."""

    @answers(403, roles=roles)
    def dependency(user: LoggedIn) -> WebUser:
        if user.role not in roles:
            raise PageForbidden()
        return user

    return Depends(dependency)


@answers(303, 403, authentication="session")
async def checked_form(request: Request) -> FormData:
    """The POSTed form, if it carries this session's CSRF token (field or htmx header)."""
    session = current_session(request)
    if session is None:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc in ("", request.url.netloc)
        raise LoginRequired(referer.path if same_site and referer.path.startswith("/") else "/")
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf_token):
        raise PageForbidden(
            "Formularen kunne ikke sendes, fordi siden var for gammel. Gå tilbage, genindlæs siden og prøv igen."
        )
    return form


CsrfForm = Annotated[FormData, Depends(checked_form)]
