"""One-click links in Chromium through the running system, with and without JavaScript.

The welcome journey of issue 12: a professional refers a citizen (sharing first name and phone
with the community); the community's welcome mail reaches its contact with one-click links; the
contact, never logged in, proposes a first visit and then confirms the welcome; the
professional sees both in the referral's timeline. A link used twice says it is already
registered; a forged, expired, foreign or cross-site link does nothing; capacity and pause
links change the community; the pages show no note and no contact data that was not shared.
axe-core on every page state, no request leaves the origin."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from shared.clock import local
from shared.links import FOLLOW_UP_VALIDITY, Link, community_link, link_url, verify_link
from shared.principal import Role
from tests.helpers import eventually, tls, token
from tests.integration.web.conftest import (
    ADMIN_TOKEN,
    CONTACT_EMAIL,
    WebSystem,
    axe_check,
    links_in,
    login_as,
    no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.browser
PROFESSIONAL = token("professional", "prof-jobcenter-mette")
FIRST_NAME, SURNAME, PHONE = "Kim", "Kjærgaard", "+45 20 30 40 50"
NOTE = "Kan godt lide at strikke sokker"
CONTACT_LINKS = {"accept", "propose_visit", "welcome", "no_show", "capacity:full", "pause"} | {
    f"reject:{reason}" for reason in ("full", "not_suitable", "no_contact")
}


def referrals_api(web_system: WebSystem, method: str, path: str, bearer: str = PROFESSIONAL, **kwargs: Any) -> Any:
    with httpx.Client(base_url=web_system.referrals.base_url, timeout=30, verify=tls()) as client:
        response = client.request(method, path, headers={"Authorization": f"Bearer {bearer}"}, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def refer(web_system: WebSystem, *, share: bool = False, community_id: str = "") -> dict[str, Any]:
    """A referral by Mette Holm (through the referrals API) of a new citizen with contact data."""
    contact = {"name": f"{FIRST_NAME} {SURNAME}", "phone": PHONE}
    citizen = referrals_api(web_system, "POST", "/v1/citizens", json={"contact": contact})
    body = {
        "citizen_ref": citizen["citizen_ref"],
        "community_id": community_id or web_system.knitting_id,
        "note": NOTE,
        "share_contact_with_community": share,
    }
    made: dict[str, Any] = referrals_api(web_system, "POST", "/v1/referrals", json=body)
    return made


def secret(web_system: WebSystem) -> str:
    return str(web_system.web.app.state.pages.settings.link_signing_key)


def mail_links(web_system: WebSystem, referral_id: str, address: str = CONTACT_EMAIL) -> tuple[str, dict[str, str]]:
    """The mail to `address` carrying one-click links for the referral: its text and its links
    by action (the community's capacity and pause links come with them)."""

    def found() -> tuple[str, dict[str, str]] | None:
        for mail in web_system.mail.to(address):
            links = {}
            for url in links_in(mail):
                if "/l/" in url:
                    link = verify_link(secret(web_system), url.rsplit("/l/", 1)[1], datetime.now(UTC))
                    links[link.action] = (link.subject_id, url)
            if any(subject == referral_id for subject, _ in links.values()):
                part = mail.get_body(preferencelist=("plain",))
                return (part.get_content() if part else ""), {action: url for action, (_, url) in links.items()}
        return None

    result: tuple[str, dict[str, str]] = web_system.run(eventually(found, timeout=30))
    return result


def own_link(
    web_system: WebSystem, action: str, subject: str, community_id: str, issued: datetime | None = None
) -> str:
    link = community_link(action, subject, community_id, issued or datetime.now(UTC))
    return link_url(web_system.url, secret(web_system), link)


def visit_day() -> str:
    return (local(datetime.now(UTC)) + timedelta(days=7)).date().isoformat()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_welcome_journey_from_the_mail_without_logging_in(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    made = refer(web_system, share=True)
    referral_id = made["referral_id"]
    text, links = mail_links(web_system, referral_id)
    assert set(links) >= CONTACT_LINKS
    assert "Strikkeklubben Vestervang" in text and FIRST_NAME not in text and NOTE not in text
    with httpx.Client(timeout=30, verify=tls()) as client:  # the shared name is for the welcome, not for answering
        answering = client.get(links["accept"]).text + client.get(links["reject:full"]).text
    assert "Strikkeklubben Vestervang" in answering and FIRST_NAME not in answering and PHONE not in answering

    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    page.goto(links["propose_visit"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Foreslå et første besøg")
    expect(page.locator("main")).to_contain_text("Strikkeklubben Vestervang")
    expect(page.locator("main")).to_contain_text(FIRST_NAME)  # shared with the community
    expect(page.locator("main")).not_to_contain_text(SURNAME)
    expect(page.locator("main")).not_to_contain_text(NOTE)
    expect(page.get_by_role("link", name="Log ud")).to_have_count(0)  # nobody is logged in
    axe_check(page, "link: propose a visit")
    # no date yet: the error summary links to the field
    page.get_by_label("Klokkeslæt").fill("17:00")
    page.get_by_role("button", name="Foreslå besøget").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name=re.compile("Skriv datoen"))).to_have_attribute("href", "#visit_at")
    axe_check(page, "link: propose a visit with an error")
    page.get_by_label("Dato").fill(visit_day())
    page.get_by_label("Klokkeslæt").fill("17:00")
    page.get_by_role("button", name="Foreslå besøget").click()
    expect(page.get_by_role("heading", name="Tak!")).to_be_visible()
    axe_check(page, "link: visit proposed")

    page.goto(links["welcome"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Bekræft velkomsten")
    expect(page.locator("main")).to_contain_text("kl. 17.00")  # the proposed visit
    expect(page.locator("main")).to_contain_text(PHONE)
    axe_check(page, "link: welcome")
    if javascript:
        screenshot(page, "link-velkomst")
    page.get_by_role("button", name="Borgeren er budt velkommen").click()
    expect(page.locator("main")).to_contain_text("Tak for den gode velkomst")
    axe_check(page, "link: welcome done")
    page.goto(links["welcome"])  # again
    expect(page.get_by_role("heading", level=1)).to_have_text("Det er allerede registreret")
    axe_check(page, "link: already registered")

    professional = new_page(javascript=javascript)
    login_as(professional, "professional", f"/henvisninger/{referral_id}")
    timeline = professional.locator("ol.timeline")
    expect(timeline).to_contain_text("Fællesskabet foreslog et første besøg")
    expect(timeline).to_contain_text("Borgeren blev budt velkommen")
    expect(timeline).to_contain_text("Kontaktpersonen i Strikkeklubben Vestervang")
    expect(professional.locator("main")).to_contain_text("Første besøg")
    axe_check(professional, "referral after the welcome")
    stored = referrals_api(web_system, "GET", f"/v1/referrals/{referral_id}")
    assert stored["status"] == "welcomed" and stored["visit_at"]
    assert foreign == []


def test_forged_expired_foreign_and_cross_site_links_do_nothing(
    new_page: Callable[..., Any], web_system: WebSystem
) -> None:
    made = refer(web_system)  # nothing shared with the community
    referral_id, knitting = made["referral_id"], web_system.knitting_id
    good = own_link(web_system, "accept", referral_id, knitting)
    forged = re.sub(r".$", lambda end: "A" if end[0] != "A" else "B", good)
    expired = own_link(web_system, "accept", referral_id, knitting, datetime.now(UTC) - timedelta(days=60))
    foreign = own_link(web_system, "accept", referral_id, web_system.full_id)  # another community's contact
    unknown = own_link(web_system, "reject:other", referral_id, knitting)
    with httpx.Client(timeout=30, verify=tls()) as client:
        shown = client.get(good)
        assert shown.status_code == 200 and "Tag imod borgeren" in shown.text
        assert FIRST_NAME not in shown.text and PHONE not in shown.text and NOTE not in shown.text
        assert client.get(forged).status_code == 404
        assert client.post(forged).status_code == 404
        assert client.get(expired).status_code == 410
        assert client.post(expired).status_code == 410
        assert client.get(foreign).status_code == 404
        assert client.post(foreign).status_code == 404
        assert client.get(unknown).status_code == 404
        assert client.post(good, headers={"Origin": "https://evil.example"}).status_code == 403
        assert client.post(good, headers={"Referer": "https://evil.example/side"}).status_code == 403
    assert referrals_api(web_system, "GET", f"/v1/referrals/{referral_id}")["status"] == "requested"

    page = new_page()
    for address, heading, state in (
        (expired, "Linket er udløbet", "expired link"),
        (forged, "Linket virker ikke", "forged link"),
    ):
        page.goto(address)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        axe_check(page, state)
    screenshot(page, "link-ugyldigt")
    page.goto(good)
    page.get_by_role("button", name="Ja, vi tager imod").click()  # our own page's POST is same-site
    expect(page.get_by_role("heading", name="Tak!")).to_be_visible()
    assert referrals_api(web_system, "GET", f"/v1/referrals/{referral_id}")["status"] == "accepted"


def own_community(web_system: WebSystem) -> str:
    """A community of this test's own, so its capacity and pause touch no other test's."""
    with httpx.Client(base_url=web_system.catalogue.base_url, timeout=30, verify=tls()) as client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        org = client.post("/v1/organizations", json={"name": "Havelauget"}, headers=headers).json()
        body = {
            "organization_id": org["id"],
            "name": "Havelauget Vestervang",
            "description": "Vi dyrker grøntsager sammen.",
            "categories": ["social"],
            "contact": {"name": "Ole Have", "email": "ole@havelauget.example.dk"},
            "location": {"area": "vestervang", "address": "Havevej 2", "postal_code": "4100"},
            "capacity": {"total": 10, "available": 6, "status": "open"},
        }
        made = client.post("/v1/communities", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_capacity_and_pause_links_change_the_community(page_without_js: Any, web_system: WebSystem) -> None:
    # Without JavaScript only: plain forms, nothing here that scripts change (the link pages
    # with JavaScript: the welcome journey's [js] variant).
    community_id = own_community(web_system)
    page = page_without_js
    page.goto(own_link(web_system, "capacity:full", community_id, community_id))
    expect(page.get_by_role("heading", level=1)).to_have_text("Opdater pladserne")
    axe_check(page, "link: capacity")
    page.get_by_role("button", name="Vis fællesskabet som fuld").click()
    expect(page.locator("main")).to_contain_text("vises nu som «fuld»")
    card = web_system.api(web_system.catalogue, "GET", f"/v1/communities/{community_id}")
    capacity = card["capacity"]
    assert (capacity["total"], capacity["available"], capacity["status"]) == (10, 0, "full")

    page.goto(own_link(web_system, "pause", community_id, community_id))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sæt mails på pause")
    page.get_by_role("button", name="Sæt mails på pause").click()  # no period chosen
    expect(page.locator("[data-error-summary]")).to_contain_text("Vælg hvor længe")
    axe_check(page, "link: pause with an error")
    page.get_by_label("2 uger").check()
    page.get_by_role("button", name="Sæt mails på pause").click()
    expect(page.locator("main")).to_contain_text("Mails er sat på pause")
    pause = web_system.api(web_system.notifications, "GET", f"/v1/communities/{community_id}/pause")
    until = datetime.fromisoformat(pause["paused_until"])
    assert timedelta(days=13) < until - datetime.now(UTC) < timedelta(days=15)


def test_a_follow_up_link_answers_yes_at_12_weeks_and_asks_about_loneliness(
    page_without_js: Any, web_system: WebSystem
) -> None:
    # Without JavaScript only, as the capacity links above.
    referral_id = refer(web_system)["referral_id"]
    web_system.api(web_system.referrals, "POST", f"/v1/referrals/{referral_id}/welcome")
    expires = datetime.now(UTC) + FOLLOW_UP_VALIDITY
    link = Link("participation:12:yes", referral_id, "prof-jobcenter-mette", Role.professional, (), expires)
    address = link_url(web_system.url, secret(web_system), link)
    page = page_without_js
    page.goto(address)
    expect(page.get_by_role("heading", level=1)).to_have_text("Opfølgning efter 12 uger")
    axe_check(page, "link: follow-up")
    page.get_by_role("button", name="Ja, borgeren deltager stadig").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vil borgeren svare på tre spørgsmål om ensomhed?")
    axe_check(page, "link: loneliness questions")
    page.get_by_label("Borgeren vil gerne svare").check()
    page.get_by_role("button", name="Gem svarene").click()  # no answers yet
    expect(page.locator("[data-error-summary]")).to_contain_text("Vælg et svar på spørgsmål 1")
    axe_check(page, "link: loneliness questions with errors")
    for number, answer in ((1, "Ofte"), (2, "En gang imellem"), (3, "Sjældent eller aldrig")):
        page.get_by_role("group", name=re.compile(f"^{number}\\. ")).get_by_label(answer).check()
    page.get_by_role("button", name="Gem svarene").click()
    expect(page.locator("main")).to_contain_text("Svarene er gemt")
    stored = referrals_api(web_system, "GET", f"/v1/referrals/{referral_id}")
    assert stored["participation"] == {"12": True} and "week_12" in stored["loneliness"]
    page.goto(address)
    expect(page.get_by_role("heading", level=1)).to_have_text("Det er allerede registreret")
