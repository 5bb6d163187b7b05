"""Issue 13's choices in the web client, in Chromium through the running system.

- The note: a professional refers through the wizard and, with the citizen's consent, answers
  "Må fællesskabet og følgeven se noten?" (no unless chosen). The community's contact (on
  Modtagelse and the referral page) and the named companion (on Mine følgeopgaver) read the
  note of the referral where the answer was yes, and not of the one left at no. A registered
  citizen without consent on record is never asked, and a forged "ja" is not sent.
- "Dine kontaktoplysninger" on Modtagelse: the contact corrects their name and phone (errors in
  Danish beside the fields), says whether the public catalogue may show them, and removes
  them; the catalogue's anonymous reads (the HSDS feed and its search) follow each choice.

Each test has a community of its own with a contact of its own, so nothing here touches the
shared system's knitting club or its contact. axe-core on every page state, no request leaves
the origin; screenshots in docs/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.helpers import eventually, tls, token
from tests.integration.web.conftest import (
    ADMIN_TOKEN,
    EMAILS,
    WebSystem,
    axe_check,
    http_login,
    login_as,
    login_by_mail,
    no_foreign_requests,
    screenshot,
)
from tests.integration.web.test_wizard_issue12 import csrf, new_citizen, proceed

pytestmark = pytest.mark.browser
METTE = "prof-jobcenter-mette"
LARS = "amb-lars"
SHARE_QUESTION = "Må fællesskabet og følgeven se noten?"
SHARED_NOTE = "Kim holder af fuglekiggeri og taler helst med én ad gangen"
PRIVATE_NOTE = "Kim har lige mistet sin mor og er meget træt om morgenen"
ORGANISATION_EMAIL = "post@fuglevennerne.example.dk"


@dataclass(frozen=True)
class Club:
    id: str
    hsds_id: str
    name: str
    contact_name: str
    contact_email: str


def own_club(web_system: WebSystem) -> Club:
    """A community of this test's own in the area the ambassadors accompany in, with a contact
    person of its own (not public) and the organisation's own e-mail; known to referrals."""
    suffix = uuid.uuid4().hex[:8]
    name, contact_name = f"Fuglevennerne {suffix}", "Ole Fuglsang"
    email = f"ole-{suffix}@fuglevennerne.example.dk"
    with httpx.Client(base_url=web_system.catalogue.base_url, timeout=30, verify=tls()) as client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        org = client.post(
            "/v1/organizations", json={"name": f"Fuglevennerne {suffix}", "email": ORGANISATION_EMAIL}, headers=headers
        ).json()
        body = {
            "organization_id": org["id"],
            "name": name,
            "description": "Vi kigger på fugle ved søen.",
            "categories": ["social"],
            "contact": {"name": contact_name, "email": email, "phone": "+45 30 40 50 60"},
            "location": {"area": "vestervang", "address": "Søvej 3", "postal_code": "4100"},
            "capacity": {"total": 10, "available": 6, "status": "open"},
        }
        made = client.post("/v1/communities", json=body, headers=headers)
    assert made.status_code == 201, made.text
    club = Club(made.json()["id"], made.json()["hsds_id"], name, contact_name, email)

    async def known_to_referrals() -> bool:
        async with web_system.referrals.client(ADMIN_TOKEN) as client:
            listed = (await client.get("/v1/communities")).json()
        return club.id in {item["community_id"] for item in listed}

    web_system.run(eventually(known_to_referrals, timeout=20))
    return club


def as_mette(web_system: WebSystem, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token('professional', METTE)}"}
    with httpx.Client(base_url=web_system.referrals.base_url, headers=headers, timeout=30, verify=tls()) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def refer_through_the_wizard(page: Any, club: Club, note: str, *, share: bool | None) -> str:
    """A new citizen with consent, referred to `club` with Lars Bech as named companion;
    `share` None leaves the note question as it is. The referral's id from the receipt."""
    page.goto(f"/faellesskaber/{club.id}")
    page.get_by_role("button", name="Henvis en borger").click()
    new_citizen(page, "Kim Hansen", "12 34 56 78")
    expect(page.get_by_role("group", name=SHARE_QUESTION)).to_be_visible()
    expect(page.get_by_label("Nej, noten er kun for mig og kommunens guider")).to_be_checked()
    page.get_by_label("Hvad betyder noget for borgeren?").fill(note)
    if share is not None:
        page.get_by_label(
            "Ja, borgeren har sagt ja til at dele noten" if share else "Nej, noten er kun for mig og kommunens guider"
        ).check()
    if share:
        axe_check(page, "wizard: the note shared")
        screenshot(page, "wizard-del-noten")
    proceed(page)
    page.get_by_label("Ja, en bestemt følgeperson").check()
    page.get_by_label(re.compile("^Følgeperson")).select_option(LARS)
    proceed(page)
    expect(page.get_by_label(re.compile(club.name))).to_be_checked()
    proceed(page)
    if page.get_by_role("button", name="Spring over").count():
        page.get_by_role("button", name="Spring over").click()
    expect(page.get_by_role("row", name=re.compile("Fællesskab og følgeven må se noten"))).to_contain_text(
        "Ja, med borgerens samtykke" if share else "Nej"
    )
    axe_check(page, "wizard: check with the note choice")
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()
    words = "Kontaktpersonen og en aftalt følgeven kan læse din note" if share else "Din note er kun for dig"
    expect(page.locator("main")).to_contain_text(words)
    return str(page.locator("#referral-reference").inner_text().strip())


def test_the_note_reaches_the_contact_and_the_companion_only_when_shared(
    new_page: Callable[..., Any], web_system: WebSystem
) -> None:
    club = own_club(web_system)
    professional = new_page()
    foreign = no_foreign_requests(professional)
    login_as(professional, "professional")
    shared = refer_through_the_wizard(professional, club, SHARED_NOTE, share=True)
    private = refer_through_the_wizard(professional, club, PRIVATE_NOTE, share=None)
    stored = {rid: as_mette(web_system, "GET", f"/v1/referrals/{rid}") for rid in (shared, private)}
    assert stored[shared]["share_note_with_community"] is True and stored[shared]["note"] == SHARED_NOTE
    assert stored[private]["share_note_with_community"] is False and stored[private]["note"] == PRIVATE_NOTE
    assert {stored[rid]["companion_id"] for rid in stored} == {LARS}
    professional.goto(f"/henvisninger/{shared}")
    expect(professional.locator("main")).to_contain_text(SHARED_NOTE)
    expect(professional.locator("main")).to_contain_text("Delt med kontaktpersonen i fællesskabet")
    professional.goto(f"/henvisninger/{private}")
    expect(professional.locator("main")).to_contain_text(PRIVATE_NOTE)
    expect(professional.locator("main")).to_contain_text("Kun for henviseren og kommunens guider")
    axe_check(professional, "referral: the referrer's own note")

    contact = new_page()
    foreign += no_foreign_requests(contact)
    login_by_mail(contact, web_system, club.contact_email)
    contact.goto("/modtagelse")
    shared_card, private_card = contact.locator(f"#henvisning-{shared}"), contact.locator(f"#henvisning-{private}")
    expect(shared_card).to_contain_text("Note fra henviseren")
    expect(shared_card).to_contain_text(SHARED_NOTE)
    expect(private_card).to_be_visible()
    expect(private_card).not_to_contain_text("Note fra henviseren")
    expect(contact.locator("main")).not_to_contain_text(PRIVATE_NOTE)
    axe_check(contact, "reception with a shared note")
    screenshot(contact, "modtagelse-note")
    contact.goto(f"/henvisninger/{shared}")
    expect(contact.locator("main")).to_contain_text(SHARED_NOTE)
    contact.goto(f"/henvisninger/{private}")
    expect(contact.locator("main")).not_to_contain_text(PRIVATE_NOTE)
    expect(contact.locator("main")).not_to_contain_text("Note fra henviseren")

    companion = new_page()
    foreign += no_foreign_requests(companion)
    login_by_mail(companion, web_system, EMAILS["ambassador"])
    companion.goto("/foelgeopgaver")
    expect(companion.locator(f"#aftale-{shared}")).to_contain_text(SHARED_NOTE)
    expect(companion.locator(f"#aftale-{private}")).to_be_visible()
    expect(companion.locator("main")).not_to_contain_text(PRIVATE_NOTE)
    axe_check(companion, "accompaniment with a shared note")
    companion.goto(f"/henvisninger/{private}")
    expect(companion.locator("main")).not_to_contain_text(PRIVATE_NOTE)
    assert foreign == []
    # the reads are in the audit log with why they were made: to receive, to accompany
    read = audit(web_system, stored[shared]["citizen_ref"])
    assert ("community_contact", "reception", "web") in read
    assert ("ambassador", "accompaniment", "web") in read


def audit(web_system: WebSystem, citizen_ref: str) -> set[tuple[str, str, str | None]]:
    """Who (role) read the citizen's data for which purpose through which client."""
    page = web_system.api(
        web_system.referrals,
        "GET",
        "/v1/audit",
        params={"citizen_ref": citizen_ref, "limit": 500},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    return {(entry["role"], entry["purpose"], entry["client"]) for entry in page["entries"]}


def test_a_registered_citizen_without_consent_is_not_asked_to_share_the_note(web_system: WebSystem) -> None:
    """Over plain HTTP: the question is missing, a forged "ja" is not taken, the referral is
    sent without sharing; with consent on record the question is there."""
    without = as_mette(web_system, "POST", "/v1/citizens", json={"contact": {"name": "Kim Hansen"}})["citizen_ref"]
    with_consent = as_mette(
        web_system, "POST", "/v1/citizens", json={"consent": {"purpose": "Henvisning til et fællesskab"}}
    )["citizen_ref"]
    with http_login(web_system, "professional") as web:
        token_ = csrf(web.get("/henvis").text)
        for citizen_ref, asked in ((with_consent, True), (without, False)):
            form = {"csrf_token": token_, "citizen_ref": citizen_ref, "community_id": web_system.knitting_id}
            started = web.post("/henvis", data=form, follow_redirects=False)
            assert started.status_code == 303, started.text[:500]
            draft = started.headers["location"].split("/")[2]
            needs = web.get(f"/henvis/{draft}/behov").text
            assert (SHARE_QUESTION in needs) is asked, citizen_ref
        answers = {"csrf_token": token_, "note": PRIVATE_NOTE, "share_note": "ja"}
        assert web.post(f"/henvis/{draft}/behov", data=answers).status_code == 200
        web.post(f"/henvis/{draft}/foelgeskab", data={"csrf_token": token_, "accompaniment": "none"})
        web.post(f"/henvis/{draft}/faellesskab", data={"csrf_token": token_, "community_id": web_system.knitting_id})
        web.post(f"/henvis/{draft}/ensomhed", data={"csrf_token": token_, "spring_over": "1"})
        check = web.get(f"/henvis/{draft}/tjek").text
        assert "Nej (kræver borgerens samtykke)" in check
        sent = web.post(f"/henvis/{draft}/send", data={"csrf_token": token_})
        assert "Henvisningen er sendt" in sent.text, sent.text[:2000]
        reference = re.search(r'id="referral-reference">([^<]+)<', sent.text)
        assert reference is not None
    stored = as_mette(web_system, "GET", f"/v1/referrals/{reference.group(1)}")
    assert stored["citizen_ref"] == without and stored["share_note_with_community"] is False


def hsds_shows(web_system: WebSystem, club: Club) -> str:
    """The community as the public catalogue shows it without login: its HSDS record and the
    HSDS search's hit, as one text."""
    with httpx.Client(base_url=web_system.catalogue.base_url, timeout=30, verify=tls()) as client:
        record = client.get(f"/hsds/services/{club.hsds_id}")
        found = client.get("/hsds/services", params={"search": club.name})
    assert record.status_code == 200 and found.status_code == 200, (record.text, found.text)
    assert club.hsds_id in found.text
    return record.text + found.text


def staff_sees(web_system: WebSystem, club: Club) -> dict[str, Any] | None:
    contact: dict[str, Any] | None = web_system.api(web_system.catalogue, "GET", f"/v1/communities/{club.id}")[
        "contact"
    ]
    return contact


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_contact_corrects_publishes_and_removes_their_own_details(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    club = own_club(web_system)
    public = hsds_shows(web_system, club)
    assert club.contact_name not in public and club.contact_email not in public and "30 40 50 60" not in public
    assert ORGANISATION_EMAIL in public  # the association's own contact details instead

    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_by_mail(page, web_system, club.contact_email)
    page.goto("/modtagelse")
    section = page.get_by_role("region", name="Dine kontaktoplysninger")
    expect(section).to_contain_text(club.contact_email)
    expect(section).to_contain_text("Nej, kun foreningens egne kontaktoplysninger vises offentligt")
    public_box = section.get_by_label("Må vises offentligt i foreningsoversigten")
    expect(public_box).not_to_be_checked()
    axe_check(page, "reception: own contact details")
    if javascript:
        screenshot(page, "modtagelse-kontakt")

    # errors in Danish beside the fields, linked from the summary; what was typed stays
    section.get_by_label("Navn").fill("")
    section.get_by_label("E-mail").fill("ole@")
    section.get_by_role("button", name="Gem kontaktoplysninger").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name="Skriv dit navn")).to_have_attribute("href", f"#contact_name-{club.id}")
    expect(summary.get_by_role("link", name=re.compile("navn@eksempel.dk"))).to_have_attribute(
        "href", f"#contact_email-{club.id}"
    )
    expect(section.get_by_label("Navn")).to_have_attribute("aria-invalid", "true")
    expect(section.get_by_label("E-mail")).to_have_value("ole@")
    if javascript:
        expect(summary).to_be_focused()
    axe_check(page, "reception: own contact details with errors")
    if javascript:
        screenshot(page, "modtagelse-kontakt-fejl")
    assert staff_sees(web_system, club) == {
        "name": club.contact_name,
        "email": club.contact_email,
        "phone": "+45 30 40 50 60",
        "public": False,
    }

    # corrected and made public: the anonymous feed shows the person
    section.get_by_label("Navn").fill("Ole Fuglsang Jensen")
    section.get_by_label("E-mail").fill(club.contact_email)
    section.get_by_label("Telefon (valgfrit)").fill("+45 40 50 60 70")
    public_box.check()
    section.get_by_role("button", name="Gem kontaktoplysninger").click()
    expect(page.get_by_role("status").filter(has_text="Dine kontaktoplysninger er gemt")).to_be_visible()
    expect(section).to_contain_text("Ja, vises i den offentlige foreningsoversigt")
    expect(public_box).to_be_checked()
    assert staff_sees(web_system, club) == {
        "name": "Ole Fuglsang Jensen",
        "email": club.contact_email,
        "phone": "+45 40 50 60 70",
        "public": True,
    }
    public = hsds_shows(web_system, club)
    assert "Ole Fuglsang Jensen" in public and club.contact_email in public and "40 50 60 70" in public
    axe_check(page, "reception: own contact details saved")

    # not public any more: the feed shows the association again, staff still see the person
    public_box.uncheck()
    section.get_by_role("button", name="Gem kontaktoplysninger").click()
    expect(page.get_by_role("status").filter(has_text="Dine kontaktoplysninger er gemt")).to_be_visible()
    public = hsds_shows(web_system, club)
    assert "Ole Fuglsang" not in public and club.contact_email not in public and ORGANISATION_EMAIL in public
    assert (staff_sees(web_system, club) or {}).get("name") == "Ole Fuglsang Jensen"

    # removed, after a page that says what it means
    section.get_by_role("link", name=re.compile("Fjern mine kontaktoplysninger")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vil du fjerne dine kontaktoplysninger")
    expect(page.locator("main")).to_contain_text("du kan ikke logge ind med din e-mail igen")
    axe_check(page, "reception: remove own contact details")
    if javascript:
        screenshot(page, "modtagelse-kontakt-fjern")
    page.get_by_role("button", name="Ja, fjern mine oplysninger").click()
    expect(page.get_by_role("status").filter(has_text="Dine kontaktoplysninger er fjernet")).to_be_visible()
    expect(section).to_contain_text("Fællesskabet har ingen kontaktperson i Vejviser lige nu")
    axe_check(page, "reception: own contact details removed")
    assert staff_sees(web_system, club) is None
    public = hsds_shows(web_system, club)
    assert "Ole Fuglsang" not in public and ORGANISATION_EMAIL in public
    # the address no longer leads to the community (the login by mail looks it up like this)
    found = web_system.api(web_system.catalogue, "GET", "/v1/communities", params={"contact_email": club.contact_email})
    assert found["items"] == []
    assert foreign == []


def test_another_communitys_contact_details_are_not_yours(new_page: Callable[..., Any], web_system: WebSystem) -> None:
    mine, theirs = own_club(web_system), own_club(web_system)
    page = new_page()
    login_by_mail(page, web_system, mine.contact_email)
    page.goto("/modtagelse")
    expect(page.locator("main")).to_contain_text(mine.contact_email)
    expect(page.locator("main")).not_to_contain_text(theirs.contact_email)
    token_ = csrf(page.content())
    body = {"csrf_token": token_, f"contact_name-{theirs.id}": "Mallory", f"contact_email-{theirs.id}": "m@example.dk"}
    assert page.request.post(f"/modtagelse/faellesskaber/{theirs.id}/kontakt", form=body).status == 403
    assert page.request.post(f"/modtagelse/faellesskaber/{theirs.id}/kontakt/fjern", form=body).status == 403
    assert page.request.get(f"/modtagelse/faellesskaber/{theirs.id}/kontakt/fjern").status == 403
    # and without the session's CSRF token one's own details stay too
    assert (
        page.request.post(f"/modtagelse/faellesskaber/{mine.id}/kontakt/fjern", form={"csrf_token": "x"}).status == 403
    )
    assert (staff_sees(web_system, theirs) or {}).get("name") == theirs.contact_name
    assert (staff_sees(web_system, mine) or {}).get("name") == mine.contact_name
