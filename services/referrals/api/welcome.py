"""`GET/POST /welcome/{token}`: the one-click welcome page (Danish HTML)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.referrals.api.deps import ByWelcomeLink, Service
from services.referrals.service.welcome import WelcomePage
from shared.profile import profile
from shared.responses import errors

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"), autoescape=select_autoescape(["html"])
)

router = APIRouter(tags=["welcome"])


def render(page: WelcomePage) -> HTMLResponse:
    html = _templates.get_template("welcome.html").render(
        title=page.title, lines=page.lines, confirm=page.confirm, programme=profile().programme
    )
    return HTMLResponse(html, status_code=page.status)


# The link unknown (404), the referral past welcoming (409), the link expired (410): Danish pages.
WELCOME_PAGES = errors(404, 409, 410, html=True)


@router.get(
    "/welcome/{token}",
    response_class=HTMLResponse,
    summary="The one-click welcome page (Danish)",
    responses=WELCOME_PAGES,
)
def show(token: str, reader: ByWelcomeLink, service: Service) -> HTMLResponse:
    return render(service.welcome.show(token, reader))


@router.post("/welcome/{token}", response_class=HTMLResponse, summary="Confirm the welcome", responses=WELCOME_PAGES)
def confirm(token: str, reader: ByWelcomeLink, service: Service) -> HTMLResponse:
    return render(service.welcome.confirm(token, reader))
