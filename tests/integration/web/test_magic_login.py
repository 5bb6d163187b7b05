"""Volunteers log in by e-mail over real HTTP, with the real SMTP server: the link works once
and only for a while, an unknown address gets the very same answer and no mail, the limits per
address (silent) and per client (429), the forms' CSRF token, the session's scope for an
ambassador and a community contact; and in Chromium with JavaScript on and off, with axe.

The HTTP tests give each client its own address through X-Forwarded-For (the web client
trusts it from 127.0.0.1 here: TRUSTED_PROXIES), so their asks do not count against the
browser tests' limits."""

from __future__ import annotations

import hashlib
import html
import itertools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from services.web.service.sessions import digest
from services.web.store import LoginLink, LoginMailAsk, WebSession
from tests.helpers import ServedApp, tls
from tests.integration.web.conftest import (
    CONTACT_EMAIL,
    EMAILS,
    LOGIN_MAIL_SUBJECT,
    WebSystem,
    axe_check,
    csp_violations,
    links_in,
    login_by_mail,
    no_foreign_requests,
    screenshot,
)

LARS, SOFIE = EMAILS["ambassador"], EMAILS["ambassador-2"]
CLIENTS = (f"203.0.113.{n}" for n in itertools.count(1))


@contextmanager
def client(base_url: str) -> Iterator[httpx.Client]:
    """A browser without JavaScript, from an address of its own."""
    headers = {"X-Forwarded-For": next(CLIENTS)}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30, verify=tls()) as http:
        yield http


def form_token(http: httpx.Client, path: str = "/login") -> str:
    page = http.get(path)
    found = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def ask(http: httpx.Client, email: str, next_path: str = "/") -> httpx.Response:
    return http.post("/login/mail", data={"email": email, "next": next_path, "form_token": form_token(http)})


def mails(web_system: WebSystem, email: str) -> list[EmailMessage]:
    return web_system.mail.to(email, LOGIN_MAIL_SUBJECT)


def next_mail(web_system: WebSystem, email: str, before: int) -> EmailMessage:
    return web_system.mail_to(email, LOGIN_MAIL_SUBJECT, count=before + 1)[before]


def link_of(mail: EmailMessage) -> str:
    return next(url for url in links_in(mail) if "/login/mail/" in url)


def use(http: httpx.Client, link: str) -> httpx.Response:
    return http.post(link, data={"form_token": form_token(http, link)})


def session_of(served: ServedApp, cookie: str) -> WebSession:
    row = served.runtime.read(lambda db: db.get(WebSession, digest(cookie)))
    assert row is not None
    return row


def rows(served: ServedApp, table: type[Any]) -> list[Any]:
    return list(served.runtime.read(lambda db: db.query(table).all()))


def test_an_ambassador_logs_in_once_with_the_link_in_the_mail(web_system: WebSystem) -> None:
    before = len(mails(web_system, LARS))
    with client(web_system.url) as http:
        asked = ask(http, "  Lars.Bech@Frivillig.example.dk ")
        assert asked.status_code == 303 and asked.headers["location"] == "/login/mail/sendt"
        sent = http.get("/login/mail/sendt")
        assert "<h1>Tjek din mail</h1>" in sent.text

        mail = next_mail(web_system, LARS, before)
        assert mail["Subject"] == "Dit login-link til Vejviser"
        link = link_of(mail)
        assert re.fullmatch(re.escape(web_system.url) + r"/login/mail/[A-Za-z0-9_-]{43}", link)
        text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "Hej Lars Bech" in text and "én gang og kun i 15 minutter" in text and "se bort fra" in text
        mail_html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        assert f'href="{link}"' in mail_html and 'lang="da"' in mail_html
        token = link.rsplit("/", 1)[1]
        assert token not in {row.token_hash for row in rows(web_system.web, LoginLink)}  # only its hash
        assert hashlib.sha256(token.encode()).hexdigest() in {row.token_hash for row in rows(web_system.web, LoginLink)}

        # Opening the link (as a mail scanner does) uses nothing; the button does.
        for _ in range(2):
            shown = http.get(link)
            assert shown.status_code == 200 and "Lars Bech" in shown.text and ">Log ind</button>" in shown.text
        used = use(http, link)
        assert used.status_code == 303 and used.headers["location"] == "/foelgeopgaver"
        session = session_of(web_system.web, used.cookies["vejviser_session"])
        assert (session.actor_id, session.role, session.name, session.communities) == (
            "amb-lars",
            "ambassador",
            "Lars Bech",
            [],
        )

    with client(web_system.url) as elsewhere:  # the same link again, in another browser
        again = use(elsewhere, link) if elsewhere.get(link).status_code == 200 else elsewhere.post(link, data={})
        assert again.status_code == 410 and "Linket er brugt" in again.text
        assert "vejviser_session" not in elsewhere.cookies
        token_value = form_token(elsewhere)
        replayed = elsewhere.post(link, data={"form_token": token_value})
        assert replayed.status_code == 410 and "<h1>Linket er brugt</h1>" in replayed.text
        assert "vejviser_session" not in replayed.cookies


def test_a_community_contact_logs_in_for_their_communities(web_system: WebSystem) -> None:
    before = len(mails(web_system, CONTACT_EMAIL))
    with client(web_system.url) as http:
        assert ask(http, CONTACT_EMAIL, next_path="https://evil.example/").status_code == 303  # not a place to go
        link = link_of(next_mail(web_system, CONTACT_EMAIL, before))
        assert "Birthe Holm" in http.get(link).text
        used = use(http, link)
        assert used.status_code == 303 and used.headers["location"] == "/modtagelse"
        session = session_of(web_system.web, used.cookies["vejviser_session"])
    with client(web_system.url) as http:  # sent to log in from a page (a mail's link): back there after
        assert ask(http, CONTACT_EMAIL, next_path="/henvisninger/abc").status_code == 303
        again = use(http, link_of(next_mail(web_system, CONTACT_EMAIL, before + 1)))
        assert again.headers["location"] == "/henvisninger/abc"
    expected_id = "contact:" + hashlib.sha256(CONTACT_EMAIL.encode()).hexdigest()[:16]
    assert (session.actor_id, session.role, session.name) == (expected_id, "community_contact", "Birthe Holm")
    assert sorted(session.communities) == sorted([web_system.knitting_id, web_system.full_id])


def test_an_unknown_address_gets_the_very_same_answer_and_no_mail(web_system: WebSystem) -> None:
    unknown = "ukendt.person@example.dk"
    before = len(mails(web_system, SOFIE))
    links_before = len(rows(web_system.web, LoginLink))
    answers = []
    with client(web_system.url) as http:
        for email in (unknown, SOFIE):
            asked = ask(http, email)
            page = http.get(asked.headers["location"])
            location = asked.headers["location"]
            answers.append((asked.status_code, location, asked.content, page.status_code, page.content))
        assert answers[0] == answers[1]
        # One worker mails in the order asked: once Sofie's has come, the unknown one is decided.
        link = link_of(next_mail(web_system, SOFIE, before))
        assert use(http, link).status_code == 303  # her ask stops counting
    assert web_system.mail.to(unknown) == []
    assert len(rows(web_system.web, LoginLink)) == links_before + 1
    assert all(unknown not in (row.key, row.token_hash) for row in rows(web_system.web, LoginMailAsk))


def test_a_link_expires(web_system: WebSystem) -> None:
    quick = web_system.another_web(login_link_minutes=0.02)  # 1.2 seconds
    before = len(mails(web_system, SOFIE))
    with client(quick.base_url) as http:
        ask(http, SOFIE)
        mail = next_mail(web_system, SOFIE, before)
        link = link_of(mail)
        assert link.startswith(quick.base_url)
        assert "kun i 1 minut," in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        token_value = form_token(http)
        time.sleep(1.5)
        shown = http.get(link)
        assert shown.status_code == 410 and "<h1>Linket er udløbet</h1>" in shown.text
        refused = http.post(link, data={"form_token": token_value})
        assert refused.status_code == 410 and "vejviser_session" not in http.cookies
    quick.app.state.sessions.sweep()  # the expired link is swept with the sessions
    assert rows(quick, LoginLink) == []


def test_the_per_address_limit_silently_stops_mail_until_a_link_is_used(web_system: WebSystem) -> None:
    other = web_system.another_web()  # its own database: its counts are its own
    lars_before, sofie_before = len(mails(web_system, LARS)), len(mails(web_system, SOFIE))
    with client(other.base_url) as http:
        answers = {(ask(http, LARS).status_code, ask(http, LARS).headers["location"]) for _ in range(2)}
        assert answers == {(303, "/login/mail/sendt")}  # four asks, the same answer
        ask(http, SOFIE)
        next_mail(web_system, SOFIE, sofie_before)  # asked last: Lars's asks are all decided
        sent = mails(web_system, LARS)[lars_before:]
        assert len(sent) == 3  # the fourth was not sent

        assert use(http, link_of(sent[0])).status_code == 303  # a used link's ask stops counting
    with client(other.base_url) as http:
        ask(http, LARS)
        assert len(web_system.mail_to(LARS, LOGIN_MAIL_SUBJECT, count=lars_before + 4)) == lars_before + 4


def test_the_per_client_limit_answers_429_in_danish(web_system: WebSystem) -> None:
    strict = web_system.another_web(login_mail_per_ip=3)
    with client(strict.base_url) as http:
        for n in range(3):
            assert ask(http, f"nr{n}@example.dk").status_code == 303
        refused = ask(http, "nr4@example.dk")
        assert refused.status_code == 429 and "<h1>Vent lidt, før du prøver igen</h1>" in refused.text
    with client(strict.base_url) as elsewhere:  # another client is not held back
        assert ask(elsewhere, "nr5@example.dk").status_code == 303
    strict.app.state.sessions.sweep()
    assert len(rows(strict, LoginMailAsk)) == 4 * 2  # four asks counted, each by address and client; kept


def test_the_forms_carry_a_token_bound_to_the_browser(web_system: WebSystem) -> None:
    before = len(mails(web_system, SOFIE))
    with client(web_system.url) as http:
        # Another site's form has no cookie of ours: refused, and the address is kept in the field.
        forged = httpx.post(f"{web_system.url}/login/mail", data={"email": SOFIE, "form_token": "x"}, verify=tls())
        assert forged.status_code == 403 and "Siden var for gammel" in forged.text
        wrong = http.post("/login/mail", data={"email": "ikke en adresse", "form_token": form_token(http)})
        assert wrong.status_code == 422 and 'href="#email"' in wrong.text and 'aria-invalid="true"' in wrong.text
        assert 'value="ikke en adresse"' in wrong.text

        ask(http, SOFIE)
        link = link_of(next_mail(web_system, SOFIE, before))
        # Logging someone in from another site: no form token, no login, and the link still works.
        planted = httpx.post(link, data={"form_token": "guessed"}, verify=tls())
        assert planted.status_code == 403 and "vejviser_session" not in planted.cookies
        assert use(http, link).status_code == 303


# ---------------------------------------------------------------------- the browser


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_volunteers_log_in_by_mail_in_the_browser(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    page = new_page(javascript=javascript)
    foreign, csp = no_foreign_requests(page), csp_violations(page)
    before = len(mails(web_system, LARS))

    page.goto("/login")
    assert page.get_by_role("heading", name="Ansat i kommunen?").is_visible()
    assert page.get_by_role("heading", name="Frivillig?").is_visible()
    axe_check(page, "the login page with the volunteers' form")
    page.get_by_role("button", name="Send mig et login-link").click()  # nothing written
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Skriv din e-mailadresse, fx navn@eksempel.dk").is_visible()
    assert page.get_by_label("E-mail").get_attribute("aria-invalid") == "true"
    axe_check(page, "the login page with an error")
    if javascript:
        assert page.evaluate("document.activeElement.id") == "error-summary-heading" or page.evaluate(
            "document.activeElement.hasAttribute('data-error-summary')"
        )
        screenshot(page, "login-mail-error")

    page.get_by_label("E-mail").fill(LARS)
    page.get_by_role("button", name="Send mig et login-link").click()
    page.wait_for_url("**/login/mail/sendt")
    assert page.get_by_role("heading", level=1).inner_text() == "Tjek din mail"
    axe_check(page, "Tjek din mail")
    if javascript:
        screenshot(page, "login-mail")

    page.goto(link_of(next_mail(web_system, LARS, before)))
    assert "Lars Bech" in page.get_by_role("main").inner_text()
    axe_check(page, "the link's Log ind page")
    if javascript:
        screenshot(page, "login-mail-link")
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/foelgeopgaver")
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["vejviser_session"]
    assert session_of(web_system.web, cookie).role == "ambassador"

    page.go_back()  # the used link's page again
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Linket er brugt"
    axe_check(page, "a used link")
    assert foreign == [] and csp == []

    # The conftest's helper for the other tests, as a community contact.
    contact = new_page(javascript=javascript)
    login_by_mail(contact, web_system, CONTACT_EMAIL, fresh=True)
    assert contact.url.endswith("/modtagelse")
    assert html.unescape("Birthe Holm") in contact.content()
