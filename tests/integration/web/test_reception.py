"""Modtagelse in Chromium through the running system, with and without JavaScript.

The "kom ikke" journey of issue 12: a professional refers; the community's contact logs in by
magic link, accepts on /modtagelse, proposes a first visit (a missing date is a focused error)
and reports that the citizen did not come; the referrer gets the no_show mail, opens the
referral and uses "Henvis igen" to refer the same citizen again. The contact sees no note, no
contact data that was not shared, and no other community's referrals, on /modtagelse and on
the referral page; capacity and a mail pause are set from the page. axe-core on every page
state, no request leaves the origin."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import eventually
from tests.integration.web.conftest import (
    ADMIN_TOKEN,
    CONTACT_EMAIL,
    EMAILS,
    WebSystem,
    axe_check,
    login_as,
    login_by_mail,
    no_foreign_requests,
    screenshot,
)
from tests.integration.web.test_links import (
    FIRST_NAME,
    NOTE,
    PHONE,
    SURNAME,
    own_community,
    refer,
    referrals_api,
    visit_day,
)

pytestmark = pytest.mark.browser


def contact_page(new_page: Callable[..., Any], web_system: WebSystem, javascript: bool = True) -> Any:
    page = new_page(javascript=javascript)
    login_by_mail(page, web_system, CONTACT_EMAIL)
    page.goto("/modtagelse")
    return page


def mail_about(web_system: WebSystem, address: str, subject: str, text: str) -> str:
    """The subject and plain text of the first mail to `address` with `subject` that mentions `text`."""

    def found() -> str | None:
        for mail in web_system.mail.to(address, subject):
            part = mail.get_body(preferencelist=("plain",))
            body = part.get_content() if part else ""
            if text in body:
                return f"{mail['Subject']}\n{body}"
        return None

    result: str = web_system.run(eventually(found, timeout=30))
    return result


def refer_again(page: Any) -> None:
    """The wizard for a registered citizen, from its start page to sent."""
    page.get_by_role("button", name="Start henvisning").click()
    page.get_by_label("Hvad betyder noget for borgeren?").fill("Vil gerne prøve en anden dag")
    page.get_by_role("button", name="Fortsæt").click()
    page.get_by_label("Nej, borgeren kommer selv").check()
    page.get_by_role("button", name="Fortsæt").click()
    page.get_by_role("searchbox", name="Find et fællesskab").fill("strik")
    page.get_by_role("button", name="Søg", exact=True).click()
    page.get_by_label(re.compile("Strikkeklubben Vestervang")).check()
    page.get_by_role("button", name="Fortsæt").click()
    if page.get_by_role("button", name="Spring over").count():
        page.get_by_role("button", name="Spring over").click()
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_contact_answers_and_after_kom_ikke_the_referrer_refers_again(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    made = refer(web_system)
    shared = refer(web_system, share=True)
    referral_id = made["referral_id"]
    page = contact_page(new_page, web_system, javascript)
    foreign = no_foreign_requests(page)
    card = page.locator(f"#henvisning-{referral_id}")
    expect(page.locator("section", has=page.locator("#new-heading")).locator(card)).to_be_visible()
    expect(page.locator(f"#henvisning-{shared['referral_id']}")).to_contain_text(PHONE)  # shared
    expect(card).not_to_contain_text(PHONE)
    expect(page.locator("main")).not_to_contain_text(NOTE)
    expect(page.locator("main")).not_to_contain_text(SURNAME)
    axe_check(page, "reception")
    if javascript:
        screenshot(page, "modtagelse")

    card.get_by_role("button", name="Ja, vi tager imod").click()
    expect(page.get_by_role("status").filter(has_text="accepteret")).to_be_visible()
    expect(page.locator("section", has=page.locator("#coming-heading")).locator(card)).to_be_visible()
    card.get_by_role("button", name="Foreslå besøget").click()  # no date, no time
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name=re.compile("Skriv datoen"))).to_have_attribute(
        "href", f"#visit_at-{referral_id}"
    )
    if javascript:
        expect(summary).to_be_focused()
    axe_check(page, "reception with an error")
    card.get_by_label("Dato").fill(visit_day())
    card.get_by_label("Klokkeslæt").fill("18:30")
    card.get_by_role("button", name="Foreslå besøget").click()
    expect(card).to_contain_text("kl. 18.30")
    card.get_by_role("button", name="Borgeren kom ikke").click()
    expect(page.get_by_role("status").filter(has_text="ikke kom")).to_be_visible()
    expect(page.locator("#closed-heading")).to_be_visible()
    axe_check(page, "reception after kom ikke")
    assert foreign == []

    mail = mail_about(web_system, EMAILS["professional"], "kom ikke", f"/henvisninger/{referral_id}")
    assert "Strikkeklubben Vestervang" in mail
    professional = new_page(javascript=javascript)
    login_as(professional, "professional", f"/henvisninger/{referral_id}")
    expect(professional.locator("main")).to_contain_text("Kom ikke")
    expect(professional.locator("ol.timeline")).to_contain_text("Borgeren kom ikke")
    expect(professional.locator("ol.timeline")).to_contain_text("Kontaktpersonen i Strikkeklubben Vestervang")
    expect(professional.locator("main")).not_to_contain_text("Der er ikke noget, du kan gøre")
    axe_check(professional, "referral after kom ikke")
    if javascript:
        screenshot(professional, "henvisning-kom-ikke")
    professional.get_by_role("link", name="Henvis igen").click()
    assert f"borger={made['citizen_ref']}" in professional.url or "/behov" in professional.url
    refer_again(professional)
    again = referrals_api(web_system, "GET", "/v1/referrals", params={"citizen": made["citizen_ref"]})
    assert len(again) == 2 and {r["status"] for r in again} == {"no_show", "requested"}


def test_a_contact_sees_no_note_no_unshared_contact_and_no_other_community(
    new_page: Callable[..., Any], web_system: WebSystem
) -> None:
    other_community = own_community(web_system)

    async def known_to_referrals() -> bool:
        async with web_system.referrals.client(ADMIN_TOKEN) as client:
            listed = (await client.get("/v1/communities")).json()
        return other_community in {item["community_id"] for item in listed}

    web_system.run(eventually(known_to_referrals, timeout=20))
    elsewhere = refer(web_system, community_id=other_community)
    mine, shared = refer(web_system), refer(web_system, share=True)
    page = contact_page(new_page, web_system)
    expect(page.locator(f"#henvisning-{mine['referral_id']}")).to_be_visible()
    expect(page.locator(f"#henvisning-{elsewhere['referral_id']}")).to_have_count(0)

    page.goto(f"/henvisninger/{mine['referral_id']}")
    main = page.locator("main")
    expect(main).to_contain_text("Strikkeklubben Vestervang")
    for hidden in (NOTE, SURNAME, PHONE, FIRST_NAME, mine["citizen_ref"]):
        expect(main).not_to_contain_text(hidden)
    expect(page.get_by_role("link", name="Modtagelse").first).to_be_visible()
    axe_check(page, "referral seen by the contact")
    page.goto(f"/henvisninger/{shared['referral_id']}")
    expect(main).to_contain_text(FIRST_NAME)
    expect(main).to_contain_text(PHONE)
    expect(main).not_to_contain_text(SURNAME)
    expect(main).not_to_contain_text(NOTE)
    for address in (f"/henvisninger/{elsewhere['referral_id']}", f"/borgere/{mine['citizen_ref']}"):
        response = page.goto(address)
        assert response is not None and response.status == 403, address
        expect(main).not_to_contain_text(NOTE)


def test_capacity_and_a_mail_pause_from_reception_without_javascript(
    new_page: Callable[..., Any], web_system: WebSystem
) -> None:
    knitting = web_system.knitting_id
    page = contact_page(new_page, web_system, javascript=False)
    desk = page.locator("section", has=page.get_by_role("heading", name="Strikkeklubben Vestervang", exact=True))
    try:
        desk.get_by_label("Få pladser").check()
        desk.get_by_role("button", name="Gem pladser").click()
        expect(page.get_by_role("status").filter(has_text="Pladserne er opdateret")).to_be_visible()
        capacity = web_system.api(web_system.catalogue, "GET", f"/v1/communities/{knitting}")["capacity"]
        assert (capacity["status"], capacity["available"], capacity["total"]) == ("open", 2, 12)
        desk.get_by_label(re.compile("Sæt mails på pause")).select_option("1")
        desk.get_by_role("button", name="Gem", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Mails er sat på pause")).to_be_visible()
        expect(desk).to_contain_text("Mails holder pause til")
        assert web_system.api(web_system.notifications, "GET", f"/v1/communities/{knitting}/pause")["paused_until"]
        axe_check(page, "reception with a pause")
    finally:
        desk.get_by_label(re.compile("Sæt mails på pause")).select_option("stop")
        desk.get_by_role("button", name="Gem", exact=True).click()
        web_system.api(
            web_system.catalogue,
            "PUT",
            f"/v1/communities/{knitting}/capacity",
            json={"total": 12, "available": 8, "status": "open"},
        )
    expect(page.get_by_role("status").filter(has_text="Mails kommer igen")).to_be_visible()
    assert web_system.api(web_system.notifications, "GET", f"/v1/communities/{knitting}/pause")["paused_until"] is None
