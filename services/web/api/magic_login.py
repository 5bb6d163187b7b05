"""Login for volunteers by e-mail (`/login/mail`): a single-use, 15-minute link for ambassadors
and community contacts, who have no municipal identity.

`POST /login/mail` asks for a link and always answers with the same redirect to "Tjek din
mail" (known address or not; a per-address limit silently sends nothing), except when the
client has asked too often (429). The link's GET only shows a "Log ind" button, because mail
scanners open links; its POST uses the link and logs the browser in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.web.api.deps import Page
from services.web.api.login import FORM_FIELD, anonymous_form, form_token_ok, see_other, start_session
from services.web.service.login import safe_next
from services.web.service.magic_link import Asked, LinkState, MagicLinks, landing, normal_address
from shared.proxies import client_address

router = APIRouter(tags=["login"], include_in_schema=False)
SENT = "/login/mail/sendt"
STALE_FORM = "Siden var for gammel. Prøv igen."


def magic_links(request: Request) -> MagicLinks:
    links: MagicLinks = request.app.state.magic_links
    return links


Links = Annotated[MagicLinks, Depends(magic_links)]
Token = Annotated[str, Path(min_length=20, max_length=100)]
FormToken = Annotated[str, Form(alias=FORM_FIELD)]


def _ask_again(page: Page, email: str, next_path: str, message: str, status: int) -> Response:
    error_of = {"email": message}
    context = {"email": email, "error_of": error_of, "errors": list(error_of.items())}
    return anonymous_form(page, "login.html", status, next_path=next_path, **context)


@router.post("/login/mail", response_class=HTMLResponse)
def ask_for_link(
    request: Request,
    page: Page,
    links: Links,
    email: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    form_token: FormToken = "",
) -> Response:
    next_path = safe_next(next)
    if not form_token_ok(request, form_token):
        return _ask_again(page, email, next_path, STALE_FORM, 403)
    address = normal_address(email)
    if address is None:
        return _ask_again(page, email, next_path, "Skriv din e-mailadresse, fx navn@eksempel.dk", 422)
    if links.ask(address, client_address(request), next_path) is Asked.ip_limited:
        return page.render("login_mail_limited.html", status=429)
    return see_other(SENT)


@router.get(SENT, response_class=HTMLResponse)
def link_sent(page: Page) -> Response:
    return page.render("login_mail_sent.html", link_minutes=round(page.settings.login_link_minutes))


def _refused(page: Page, state: LinkState) -> Response:
    minutes = round(page.settings.login_link_minutes)
    return page.render("login_mail_refused.html", status=410, used=state is LinkState.used, link_minutes=minutes)


@router.get("/login/mail/{token}", response_class=HTMLResponse)
def link_page(page: Page, links: Links, token: Token) -> Response:
    opened = links.state(token)
    if opened.user is None:
        return _refused(page, opened.state)
    return anonymous_form(page, "login_mail_link.html", token=token, person=opened.user.display_name)


@router.post("/login/mail/{token}", response_class=HTMLResponse)
def use_link(request: Request, page: Page, links: Links, token: Token, form_token: FormToken = "") -> Response:
    if not form_token_ok(request, form_token):
        opened = links.state(token)
        if opened.user is None:
            return _refused(page, opened.state)
        person = opened.user.display_name
        return anonymous_form(page, "login_mail_link.html", 403, token=token, person=person, problem=STALE_FORM)
    opened = links.use(token)
    if opened.user is None:
        return _refused(page, opened.state)
    return start_session(request, page, opened.user, landing(opened.user, opened.next_path))
