"""The web platform's pure parts and its app without the other services: settings, claims to
user, safe return paths, Danish dates, templates without inline code, and the page
dependencies (login redirect, role check, CSRF) on a bare app."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.testclient import TestClient

from services.web.api.deps import CsrfForm, LoggedIn, Page, Staff
from services.web.api.templating import TEMPLATES, da_date, local_time
from services.web.domain import WebUser
from services.web.main import build
from services.web.service.login import LoginFailed, safe_next, user_from_claims
from services.web.settings import WebSettings
from shared.principal import Role
from tests.helpers import production_settings, session_keys


def settings(**overrides: Any) -> WebSettings:
    return WebSettings(database_url="sqlite://", public_base_url="http://localhost:8000", **overrides)


# ---------------------------------------------------------------------- settings


def test_the_development_identity_provider_is_the_default_issuer_in_development() -> None:
    config = settings()
    assert config.oidc_issuer == "http://localhost:8000/dev-idp"
    assert config.dev_idp


def test_outside_development_an_issuer_and_a_client_secret_are_required() -> None:
    production = production_settings(draft_secret="d" * 32, token_signing_key_file=str(session_keys().signing_key_file))
    with pytest.raises(ValueError, match="OIDC_ISSUER"):
        settings(**production)
    with pytest.raises(ValueError, match="OIDC_CLIENT_SECRET"):
        settings(**production, oidc_issuer="https://login.example.dk")
    real = settings(**production, oidc_issuer="https://login.example.dk", oidc_client_secret="vault")
    assert not real.dev_idp


def test_the_dev_idp_is_never_mounted_outside_development() -> None:
    dev_issuer = "http://localhost:8000/dev-idp"
    config = settings(
        **production_settings(environment="test", oidc_issuer=dev_issuer, oidc_client_secret="x"),
        draft_secret="d" * 32,
        token_signing_key_file=str(session_keys().signing_key_file),
    )
    assert not config.dev_idp
    app = build(config)
    assert not any(getattr(route, "path", "").startswith("/dev-idp") for route in app.routes)


# ---------------------------------------------------------------------- claims


def test_the_broadest_role_among_the_claims_is_the_users_role() -> None:
    claims = {"sub": "a-1", "name": "Anne", "roles": ["professional", "guide", "unknown"], "communities": []}
    user = user_from_claims(claims, settings())
    assert user == WebUser("a-1", Role.guide, "Anne", ())


def test_claim_names_and_role_values_are_configurable() -> None:
    config = settings(
        oidc_role_claim="groups",
        oidc_community_claim="fællesskaber",
        oidc_name_claim="given_name",
        oidc_role_map={"Vejviser.Kontakt": "community_contact"},
    )
    claims = {"sub": "c-1", "given_name": "Birthe", "groups": "Vejviser.Kontakt", "fællesskaber": ["k-1", "k-2"]}
    assert user_from_claims(claims, config) == WebUser("c-1", Role.community_contact, "Birthe", ("k-1", "k-2"))


def test_a_user_without_a_vejviser_role_is_refused_in_danish() -> None:
    with pytest.raises(LoginFailed, match="ingen rolle i Vejviser"):
        user_from_claims({"sub": "x", "roles": ["municipal_system_typo"]}, settings())


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/soeg?q=strik", "/soeg?q=strik"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_only_a_path_on_this_site_is_a_place_to_return_to(given: str, expected: str) -> None:
    assert safe_next(given) == expected


# ---------------------------------------------------------------------- dates


def test_times_are_shown_on_the_copenhagen_clock_in_danish() -> None:
    assert local_time(datetime(2026, 12, 2, 13, 5, tzinfo=UTC)) == "2. dec. 2026 kl. 14.05"
    assert local_time("2026-07-01T10:00:00+00:00") == "1. jul. 2026 kl. 12.00"
    assert local_time(None) == ""
    assert da_date(date(2026, 5, 17)) == "17. maj 2026"
    assert da_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "1. januar 2027"


# ---------------------------------------------------------------------- templates


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    offenders = []
    for template in Path(TEMPLATES).rglob("*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+=", r"javascript:"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {pattern}")
    assert offenders == []


def test_the_layout_is_danish_with_a_skip_link_and_an_accessibility_statement() -> None:
    base = (Path(TEMPLATES) / "base.html").read_text()
    assert '<html lang="da">' in base
    assert 'href="#main-content">Gå til indhold</a>' in base and 'id="main-content"' in base
    assert "Tilgængelighedserklæring" in base and "settings.accessibility_statement_url" in base
    assert base.count(" defer></script>") == 3


# ---------------------------------------------------------------------- page dependencies

probe = APIRouter()


@probe.get("/probe/open", response_class=HTMLResponse)
def open_page(page: Page) -> HTMLResponse:
    return page.render("404.html")


@probe.get("/probe/mine", response_class=PlainTextResponse)
def mine(user: LoggedIn) -> str:
    return user.actor_id


@probe.get("/probe/guides", response_class=PlainTextResponse)
def guides_only(user: Annotated[WebUser, Staff(Role.guide, Role.admin)]) -> str:
    return user.actor_id


@probe.post("/probe/form", response_class=PlainTextResponse)
def posted(form: CsrfForm) -> str:
    return str(form.get("word"))


@pytest.fixture
def client(tmp_path: Path) -> Any:
    app = build(WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}"))
    app.include_router(probe)
    with TestClient(app, base_url="http://localhost:8000") as test_client:
        yield test_client


def log_in(client: Any, user: WebUser) -> str:
    cookie, session = client.app.state.sessions.open(user)
    client.cookies.set("vejviser_session", cookie)
    return session.csrf_token


def test_a_page_needing_login_redirects_to_the_login_page_with_the_way_back(client: Any) -> None:
    response = client.get("/probe/mine?x=1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fprobe%2Fmine%3Fx%3D1"
    htmx = client.get("/probe/mine", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.headers["HX-Redirect"].startswith("/login?next=")


def test_another_role_gets_the_danish_403_page(client: Any) -> None:
    log_in(client, WebUser("prof-1", Role.professional, "Mette"))
    assert client.get("/probe/mine").text == "prof-1"
    refused = client.get("/probe/guides")
    assert refused.status_code == 403 and "Du har ikke adgang til denne side" in refused.text
    assert 'lang="da"' in refused.text


def test_a_post_needs_the_sessions_csrf_token_in_the_form_or_the_htmx_header(client: Any) -> None:
    token = log_in(client, WebUser("guide-1", Role.guide, "Anne"))
    assert client.post("/probe/form", data={"word": "hej"}).status_code == 403
    assert client.post("/probe/form", data={"word": "hej", "csrf_token": "forkert"}).status_code == 403
    assert client.post("/probe/form", data={"word": "hej", "csrf_token": token}).text == "hej"
    assert client.post("/probe/form", data={"word": "hx"}, headers={"HX-CSRF-Token": token}).text == "hx"


def test_the_navigation_follows_the_role(client: Any) -> None:
    log_in(client, WebUser("contact-1", Role.community_contact, "Birthe", ("k-1",)))
    page = client.get("/probe/open").text
    assert "Søg fællesskaber" in page and "Mine henvisninger" not in page and "Log ud" in page
    assert "Birthe" in page
