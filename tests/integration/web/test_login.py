"""Logging in to the web client through the development identity provider in a real browser
(with and without JavaScript), the session cookie, logout, idle expiry, the CSRF check, the
security headers, accessibility of the login pages, and no request leaving the origin."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.web.service.sessions import digest
from services.web.store import WebSession
from tests.helpers import production_settings, session_keys, tls
from tests.integration.web.conftest import (
    WebSystem,
    axe_check,
    csp_violations,
    login_as,
    no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.browser


def session_cookie(page: Any) -> dict[str, Any]:
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert "vejviser_session" in cookies, cookies
    return cookies["vejviser_session"]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_professional_logs_in_through_the_development_identity_provider(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    csp = csp_violations(page)

    page.goto("/soeg")
    assert "/login?next=%2Fsoeg" in page.url  # not logged in: sent to the login page
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.get_by_role("heading", level=1).inner_text() == "Log ind i Vejviser"
    axe_check(page, "the login page")
    if javascript:
        screenshot(page, "login")
        page.keyboard.press("Tab")  # the skip link comes first and shows itself when focused
        skip = page.get_by_role("link", name="Gå til indhold")
        assert skip.evaluate("element => element === document.activeElement") and skip.is_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        screenshot(page, "login-keyboard-focus")

    page.get_by_role("link", name="Log ind").click()
    page.wait_for_url("**/dev-idp/authorize**")
    assert page.get_by_role("heading", level=1).inner_text() == "Vælg, hvem du vil logge ind som"
    axe_check(page, "the persona picker")
    if javascript:
        screenshot(page, "login-personas")
    page.get_by_role("button", name="Mette Holm").click()

    page.wait_for_url("**/soeg")  # back where the person was going
    assert page.get_by_text("Mette Holm").first.is_visible()
    navigation = page.get_by_role("navigation", name="Hovedmenu")
    assert navigation.get_by_role("link", name="Søg fællesskaber").get_attribute("aria-current") == "page"
    assert navigation.get_by_role("link", name="Mine henvisninger").is_visible()
    assert page.get_by_role("button", name="Log ud").is_visible()
    axe_check(page, "the start page, logged in")
    if javascript:
        screenshot(page, "start-logged-in")
    assert foreign == []
    assert csp == []


def test_the_session_cookie_is_http_only_same_site_lax_and_stored_hashed(page: Any, web_system: WebSystem) -> None:
    login_as(page, "professional", fresh=True)
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # development over http; Secure everywhere else
    assert len(cookie["value"]) >= 40

    def rows(db: Any) -> list[WebSession]:
        return list(db.query(WebSession).all())

    stored = web_system.web.runtime.read(rows)
    hashes = {row.id_hash for row in stored}
    assert digest(cookie["value"]) in hashes
    assert cookie["value"] not in hashes  # only the hash is kept
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it


def test_the_cookie_is_secure_outside_development(web_system: WebSystem) -> None:
    from services.web.settings import WebSettings

    settings = WebSettings(
        **production_settings(oidc_issuer="https://login.example.dk", oidc_client_secret="from-the-vault"),
        draft_secret="a-production-draft-key-of-32-bytes-or-more",
        token_signing_key_file=str(session_keys().signing_key_file),
    )
    assert not settings.dev_idp


def test_logout_ends_the_session(page: Any, web_system: WebSystem) -> None:
    login_as(page, "guide", fresh=True)  # its own session: the other tests' stays
    old = session_cookie(page)["value"]
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/login?logget_ud=1")
    assert page.get_by_text("Du er logget ud.").is_visible()
    assert "vejviser_session" not in {cookie["name"] for cookie in page.context.cookies()}
    # The old cookie is worth nothing now, even replayed.
    response = httpx.get(
        f"{web_system.url}/soeg", cookies={"vejviser_session": old}, follow_redirects=False, verify=tls()
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_an_idle_session_expires(new_page: Callable[..., Any], web_system: WebSystem) -> None:
    # 3 seconds: the login's own requests must fit in it on a busy machine
    quick = web_system.another_web(session_idle_minutes=0.05)
    page = new_page(base_url=quick.base_url)
    login_as(page, "professional", "/soeg", fresh=True)
    page.goto("/soeg")
    assert page.url.endswith("/soeg")
    time.sleep(3.5)
    page.goto("/soeg")
    assert "/login?next=%2Fsoeg" in page.url


def test_a_post_without_the_csrf_token_is_refused(page: Any, web_system: WebSystem) -> None:
    login_as(page, "professional", fresh=True)  # a session to lose, were the check broken
    refused = page.request.post("/logout", form={"anything": "x"}, max_redirects=0)
    assert refused.status == 403
    assert "Du har ikke adgang" in refused.text()
    wrong = page.request.post("/logout", form={"csrf_token": "guessed"}, max_redirects=0)
    assert wrong.status == 403
    page.goto("/soeg")
    assert page.url.endswith("/soeg")  # still logged in


def test_pages_carry_a_strict_content_security_policy_and_security_headers(web_system: WebSystem) -> None:
    for path in ("/login", "/nope", "/static/app.css"):
        response = httpx.get(f"{web_system.url}{path}", verify=tls())
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp and "base-uri 'self'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "camera=()" in response.headers["permissions-policy"]
    vendor = httpx.get(
        f"{web_system.url}/static/vendor/dkfds/css/dkfds.min.css", headers={"accept-encoding": "gzip"}, verify=tls()
    )
    assert vendor.headers["content-encoding"] == "gzip"
    assert "immutable" in vendor.headers["cache-control"]
    page = httpx.get(f"{web_system.url}/login", headers={"accept-encoding": "gzip"}, verify=tls())
    assert page.headers["content-encoding"] == "gzip" and page.headers["cache-control"] == "no-store"


def test_the_404_page_is_danish(page: Any, web_system: WebSystem) -> None:
    response = page.goto("/findes-ikke")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Siden findes ikke"
    axe_check(page, "the 404 page")


def test_a_callback_with_a_foreign_state_is_refused(web_system: WebSystem) -> None:
    with httpx.Client(base_url=web_system.url, verify=tls()) as client:
        start = client.get("/login/start", params={"next": "/soeg"})
        assert start.status_code == 303
        authorize = httpx.get(start.headers["location"], verify=tls())
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', authorize.text))
        fields["persona"] = "guide"
        chosen = client.post("/dev-idp/authorize", data=fields)
        callback = chosen.headers["location"]
        # The same callback in another browser (without the login cookie) does not log in.
        elsewhere = httpx.get(callback, verify=tls())
        assert elsewhere.status_code == 400 and "anden browser" in elsewhere.text
        assert "vejviser_session" not in elsewhere.cookies


def test_the_token_endpoint_checks_pkce(web_system: WebSystem) -> None:
    with httpx.Client(base_url=web_system.url, verify=tls()) as client:
        start = client.get("/login/start")
        authorize = httpx.get(start.headers["location"], verify=tls())
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', authorize.text))
        fields["persona"] = "guide"
        code = re.search(r"code=([^&]+)", client.post("/dev-idp/authorize", data=fields).headers["location"])
        assert code
        settings = web_system.web.app.state.settings
        exchanged = client.post(
            "/dev-idp/token",
            data={
                "grant_type": "authorization_code",
                "code": code.group(1),
                "redirect_uri": f"{web_system.url}/login/callback",
                "code_verifier": "not-the-verifier-that-made-the-challenge-0123456789",
                "client_id": settings.oidc_client_id,
                "client_secret": settings.oidc_client_secret,
            },
        )
        assert exchanged.status_code == 400 and exchanged.json()["error"] == "invalid_grant"
