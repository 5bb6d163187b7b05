"""Indstillinger and Beskeder in Chromium through the running system, with and without
JavaScript: a person's notification settings are refused with Danish messages, then saved and
kept by the notifications service; a welcome reaches the referrer's inbox, the header counts it
("N ulæste"), the message reads in full with its link, and "Markér som læst" counts it down.
axe-core on every page state, no request leaves the origin."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from services.web.devidp.personas import BY_KEY
from shared.clock import COPENHAGEN
from shared.danish import da_date
from tests.helpers import eventually, tls, token
from tests.integration.web.conftest import (
    GUIDE_TOKEN,
    WebSystem,
    axe_check,
    http_login,
    login_as,
    no_foreign_requests,
    screenshot,
)
from tests.integration.web.test_followup import own_community

pytestmark = pytest.mark.browser
# The settings are changed for personas whose mail no other test waits for, and put back.
SETTINGS_PERSONA = {True: "guide", False: "analyst"}
INBOX_PERSONA = "professional-2"
CLUB = "Kortklubben Vestervang"


def bearer(persona: str) -> str:
    found = BY_KEY[persona]
    return token(str(found.role), found.actor_id, list(found.communities))


def call(service_url: str, persona_token: str, method: str, path: str, **kwargs: Any) -> Any:
    with httpx.Client(base_url=service_url, timeout=30, verify=tls()) as client:
        response = client.request(method, path, headers={"Authorization": f"Bearer {persona_token}"}, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


@pytest.fixture
def kept_preferences(web_system: WebSystem) -> Iterator[Callable[[str], dict[str, Any]]]:
    """`keep(persona)`: the persona's preferences now, put back after the test."""
    kept: dict[str, dict[str, Any]] = {}

    def keep(persona: str) -> dict[str, Any]:
        found = call(web_system.notifications.base_url, bearer(persona), "GET", "/v1/preferences")
        kept[persona] = {key: found[key] for key in ("channels", "opted_out", "quiet_hours", "daily_cap")}
        kept[persona]["paused_until"] = found.get("paused_until")
        return dict(found)

    yield keep
    for persona, body in kept.items():
        call(web_system.notifications.base_url, bearer(persona), "PUT", "/v1/preferences", json=body)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_settings_are_checked_saved_and_kept(
    new_page: Callable[..., Any],
    web_system: WebSystem,
    kept_preferences: Callable[[str], dict[str, Any]],
    javascript: bool,
) -> None:
    persona = SETTINGS_PERSONA[javascript]
    before = kept_preferences(persona)
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, persona, "/indstillinger")
    expect(page.get_by_role("heading", level=1)).to_have_text("Indstillinger")
    expect(page.get_by_role("link", name="Indstillinger")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Alle beskeder kan du altid læse under Beskeder")).to_be_visible()
    expect(page.get_by_label("Også på mail")).to_be_checked(checked="email" in before["channels"])
    expect(page.get_by_label("Også på sms")).to_have_count(1 if before["sms_available"] else 0)
    # The weekly digest is a referrer's: a guide has it, an analyst does not.
    expect(page.get_by_label("Send mig ugebrevet")).to_have_count(1 if persona == "guide" else 0)
    axe_check(page, f"settings ({persona})")
    if javascript:
        screenshot(page, "indstillinger")

    # Refused: the same time twice, a pause in the past, a cap out of range.
    page.get_by_label("Ingen mails og sms i et tidsrum hver dag").check()
    page.get_by_label("Fra klokken").fill("21:00")
    page.get_by_label("Til klokken").fill("21:00")
    page.get_by_label("Ingen mails og sms til og med").fill("2020-01-01")
    page.get_by_label("Højst så mange mails og sms om dagen").fill("500")
    page.get_by_role("button", name="Gem indstillinger").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(page).to_have_title("Fejl: Indstillinger – Vejviser")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Det stille tidsrum skal slutte på et andet klokkeslæt, end det begynder",
            "Skriv en dato fra i dag og frem, eller lad feltet stå tomt",
            "Skriv et helt tal fra 0 til 100",
        ]
    )
    if javascript:
        expect(summary).to_be_focused()
    expect(page.get_by_label("Højst så mange mails og sms om dagen")).to_have_attribute("aria-invalid", "true")
    axe_check(page, f"settings with errors ({persona})")
    if javascript:
        screenshot(page, "indstillinger-fejl")
    summary.get_by_role("link", name="Skriv et helt tal fra 0 til 100").click()
    expect(page.get_by_label("Højst så mange mails og sms om dagen")).to_be_focused()

    # Saved: mail off, quiet 22-06.30, a pause through ten days from now, at most 5 a day.
    through = datetime.now(COPENHAGEN).date() + timedelta(days=10)
    page.get_by_label("Også på mail").uncheck()
    if persona == "guide":
        page.get_by_label("Send mig ugebrevet").uncheck()
    page.get_by_label("Fra klokken").fill("22:00")
    page.get_by_label("Til klokken").fill("06:30")
    page.get_by_label("Ingen mails og sms til og med").fill(through.isoformat())
    page.get_by_label("Højst så mange mails og sms om dagen").fill("5")
    page.get_by_role("button", name="Gem indstillinger").click()
    page.wait_for_url("**/indstillinger?gemt=ja")
    expect(page.get_by_role("status").filter(has_text="Dine indstillinger er gemt.")).to_be_visible()
    expect(page.get_by_text(f"sat på pause til og med {da_date(through)}")).to_be_visible()
    expect(page.get_by_label("Også på mail")).not_to_be_checked()
    expect(page.get_by_label("Fra klokken")).to_have_value("22:00")
    expect(page.get_by_label("Højst så mange mails og sms om dagen")).to_have_value("5")
    axe_check(page, f"settings saved ({persona})")

    kept = call(web_system.notifications.base_url, bearer(persona), "GET", "/v1/preferences")
    assert kept["channels"] == ["inbox"]
    assert kept["quiet_hours"] == {"start": "22:00", "end": "06:30"} and kept["daily_cap"] == 5
    resumes = datetime.fromisoformat(kept["paused_until"]).astimezone(COPENHAGEN)
    assert (resumes.date(), resumes.hour, resumes.minute) == (through + timedelta(days=1), 0, 0)
    assert ("weekly_digest" in kept["opted_out"]) == (persona == "guide" or "weekly_digest" in before["opted_out"])
    assert foreign == []


def welcome_for(web_system: WebSystem, persona: str, community_id: str) -> str:
    """A referral by `persona` (through the referrals API), welcomed by a guide: the referrer
    gets the welcome message. Its id."""
    referrals, referrer = web_system.referrals.base_url, bearer(persona)
    citizen = call(referrals, referrer, "POST", "/v1/citizens", json={"contact": {"name": "Ida Ibsen"}})
    body = {"citizen_ref": citizen["citizen_ref"], "community_id": community_id}
    referral_id: str = call(referrals, referrer, "POST", "/v1/referrals", json=body)["referral_id"]
    call(referrals, GUIDE_TOKEN, "POST", f"/v1/referrals/{referral_id}/welcome")
    return referral_id


def inbox_of(web_system: WebSystem, persona: str) -> dict[str, Any]:
    found: dict[str, Any] = call(web_system.notifications.base_url, bearer(persona), "GET", "/v1/inbox")
    return found


def inbox_once(web_system: WebSystem, persona: str, check: Callable[[dict[str, Any]], Any], timeout: float = 20) -> Any:
    """Poll the persona's inbox (in the system's loop, so without blocking its servers) until
    `check(inbox)` is truthy; that value."""

    async def checked() -> Any:
        async with web_system.notifications.client(bearer(persona)) as client:
            response = await client.get("/v1/inbox", params={"limit": 500})
        return check(response.json())

    return web_system.run(eventually(checked, timeout=timeout))


def unread_link(count: int) -> str:
    return f"Beskeder, {count} ulæst{'e' if count != 1 else ''}" if count else "Beskeder"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_message_reaches_the_inbox_is_counted_read_and_marked(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    referral_id = welcome_for(web_system, INBOX_PERSONA, own_community(web_system, CLUB))

    def arrived(inbox: dict[str, Any]) -> dict[str, Any] | None:
        mine = [m for m in inbox["messages"] if m["referral_id"] == referral_id and m["rule"] == "welcome_confirmed"]
        return inbox if mine and not mine[0]["read_at"] else None

    unread = inbox_once(web_system, INBOX_PERSONA, arrived)["unread"]
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, INBOX_PERSONA, "/henvisninger")
    # Every page's header counts the unread messages; a screen reader hears "N ulæste".
    messages_link = page.get_by_role("link", name=unread_link(unread), exact=True)
    expect(messages_link).to_be_visible()
    expect(page.locator(".unread-badge")).to_have_text(str(unread) if unread < 100 else "99+")
    messages_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beskeder")
    message = page.locator("article", has=page.locator(f'a[href="/henvisninger/{referral_id}"]'))
    expect(message.get_by_role("heading")).to_have_text(f"Ulæst Det lykkedes: velkomst i {CLUB}")
    expect(message).to_contain_text("er blevet budt velkommen")
    expect(message.locator("time")).to_have_text(re.compile(r"^\d{1,2}\. \w+\.? \d{4} kl\. \d{2}\.\d{2}$"))
    expect(message.get_by_role("link", name="Se henvisningen")).to_be_visible()
    # The text's addresses are links (here the settings in the footer).
    expect(message.get_by_role("link", name=f"{web_system.url}/indstillinger")).to_be_visible()
    axe_check(page, "inbox")
    if javascript:
        screenshot(page, "beskeder")

    message.get_by_role("button", name="Markér som læst").click()
    expect(page.get_by_role("status").filter(has_text="Beskeden er markeret som læst.")).to_be_visible()
    expect(page.get_by_role("link", name=unread_link(unread - 1), exact=True)).to_be_visible()
    message = page.locator("article", has=page.locator(f'a[href="/henvisninger/{referral_id}"]'))
    expect(message.get_by_role("heading")).to_have_text(f"Det lykkedes: velkomst i {CLUB}")
    expect(message.get_by_role("button", name="Markér som læst")).to_have_count(0)
    axe_check(page, "inbox after marking one read")
    read = [m for m in inbox_of(web_system, INBOX_PERSONA)["messages"] if m["referral_id"] == referral_id]
    assert read[0]["read_at"] is not None

    # Only the unread ones: the read message is not among them.
    page.get_by_role("link", name="Kun ulæste").click()
    expect(page.get_by_role("link", name="Kun ulæste")).to_have_attribute("aria-current", "page")
    expect(page.locator(f'a[href="/henvisninger/{referral_id}"]')).to_have_count(0)
    axe_check(page, "inbox, unread only")

    # On a phone the header keeps Beskeder and Indstillinger (DKFDS would hide them in its drawer).
    page.set_viewport_size({"width": 375, "height": 800})
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name=re.compile(r"^Beskeder"))).to_be_visible()
    expect(header.get_by_role("link", name="Indstillinger", exact=True)).to_be_visible()
    axe_check(page, "inbox on a phone")
    assert foreign == []


def test_the_inbox_pages_by_twenty_newest_first(page: Any, web_system: WebSystem) -> None:
    persona = INBOX_PERSONA
    shown = inbox_of(web_system, persona)["messages"]
    club = own_community(web_system, "Skakklubben Vestervang")
    made = [welcome_for(web_system, persona, club) for _ in range(max(0, 21 - len(shown)))]

    def enough(inbox: dict[str, Any]) -> list[dict[str, Any]] | None:
        messages: list[dict[str, Any]] = inbox["messages"]
        return messages if len(messages) >= 21 and {m["referral_id"] for m in messages} >= set(made) else None

    messages = inbox_once(web_system, persona, enough, timeout=30)
    login_as(page, persona, "/beskeder")
    titles = page.locator("article h2")
    expect(titles).to_have_count(20)
    newest = sorted(messages, key=lambda m: m["created_at"], reverse=True)
    assert page.locator("article").first.get_attribute("id") == f"besked-{newest[0]['id']}"
    expect(page.get_by_role("link", name="Nyere beskeder")).to_have_count(0)
    page.get_by_role("link", name="Ældre beskeder").click()
    assert page.url.endswith("/beskeder?side=2")
    expect(page.locator("article").first).to_have_attribute("id", f"besked-{newest[20]['id']}")
    expect(page.get_by_role("link", name="Nyere beskeder")).to_be_visible()
    axe_check(page, "inbox, page 2")


def test_a_page_does_not_fail_when_the_count_cannot_be_had(web_system: WebSystem) -> None:
    """The header's count is a nicety: with the notifications service unreachable every page
    still renders, without a count (Beskeder itself is the 503 page)."""
    other = web_system.another_web(notifications_url="http://127.0.0.1:9")
    with httpx.Client(base_url=other.base_url, follow_redirects=True, timeout=30, verify=tls()) as client:
        picker = client.get("/login/start", params={"next": "/henvisninger"})
        hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', picker.text)
        form = {name: html.unescape(value) for name, value in hidden} | {"persona": INBOX_PERSONA}
        worklist = client.post("/dev-idp/authorize", data=form)
        assert worklist.status_code == 200 and "<h1>Mine henvisninger</h1>" in worklist.text
        assert 'href="/beskeder" class="function-link">Beskeder</a>' in worklist.text
        assert client.get("/beskeder").status_code == 503


def test_the_forms_need_the_sessions_token_and_a_message_of_ones_own(web_system: WebSystem) -> None:
    with http_login(web_system, "guide") as client:
        page = client.get("/indstillinger")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        for path in ("/indstillinger", "/beskeder/0190-abc/laest", "/parathed/traening"):
            refused = client.post(path, data={"daily_cap": "3"})
            assert refused.status_code == 403 and "siden var for gammel" in refused.text, path
        # Someone else's (or no) message: the notifications service's 404 is the web's.
        assert client.post("/beskeder/0190-abc/laest", data={"csrf_token": csrf[1]}).status_code == 404
        assert client.post("/beskeder/..%2F..%2Fx/laest", data={"csrf_token": csrf[1]}).status_code == 404
