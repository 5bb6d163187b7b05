"""The professional's journeys in Chromium through the running system, logged in through the
development identity provider, with and without JavaScript: search "strik", open the card,
refer a new citizen with consent, see the reference and find it in the worklist (and the
referral is in the referrals service); consent "nej" stores nothing; a validation error shows
a focused error summary linking to the field; another professional's referral is the 403
page. axe-core finds no serious or critical violation on any page or state visited, no
request leaves the origin, and each page is photographed for the README (docs/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from services.referrals.tables import Citizen
from tests.integration.web.conftest import WebSystem, axe_check, login_as, no_foreign_requests, screenshot

pytestmark = pytest.mark.browser
MENU_BUTTONS = "header .more-button"


def visit(page: Any, state: str, shot: str | None = None) -> None:
    """axe on this page state (also without JavaScript), and its picture when asked."""
    axe_check(page, state)
    if shot:
        screenshot(page, shot)


def search_strik(page: Any, javascript: bool) -> None:
    page.goto("/soeg")
    menu_buttons = page.locator(MENU_BUTTONS).count()
    page.get_by_label("Hvad leder borgeren efter?").fill("strik")
    if javascript:
        # live search: the results change under the field, which keeps the focus
        expect(page.get_by_role("link", name="Fjern filter: Søgeord: strik")).to_be_visible()
        expect(page.get_by_label("Hvad leder borgeren efter?")).to_be_focused()
        assert "q=strik" in page.url
        # a swap initialises the fragment only: the header keeps its one overflow menu
        assert page.locator(MENU_BUTTONS).count() == menu_buttons <= 1
    page.get_by_role("button", name="Søg", exact=True).click()
    if javascript:
        expect(page.locator("#results-heading")).to_be_focused()
        expect(page.locator("#status-region")).to_contain_text("fællesskaber fundet")
        assert page.locator(MENU_BUTTONS).count() == menu_buttons
    expect(page.get_by_role("link", name="Strikkeklubben Vestervang")).to_be_visible()


def refer(page: Any, javascript: bool) -> str:
    def shot(name: str) -> str | None:
        return name if javascript else None

    search_strik(page, javascript)
    visit(page, "search results", shot("search"))
    page.get_by_text("Filtre", exact=True).click()
    page.get_by_label("Kun med ledige pladser").check()
    if not javascript:
        page.get_by_role("button", name="Søg", exact=True).click()
    expect(page.get_by_role("link", name="Fjern filter: Kun med ledige pladser")).to_be_visible()
    expect(page.get_by_role("link", name="Hæklecaféen")).to_have_count(0)
    visit(page, "search with a filter", shot("search-filters"))
    page.get_by_role("link", name="Strikkeklubben Vestervang").click()
    visit(page, "community card", shot("community-card"))
    page.get_by_role("button", name="Henvis en borger").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvem henviser du?")  # each step has its h1
    visit(page, "wizard: citizen", shot("wizard-citizen"))
    page.get_by_label("En ny borger").check()
    page.get_by_role("button", name="Fortsæt").click()
    visit(page, "wizard: consent", shot("wizard-consent"))
    page.get_by_label("Ja, borgeren giver samtykke").check()
    page.get_by_role("button", name="Fortsæt").click()
    # a validation error: the summary is focused and links to the field
    page.get_by_role("button", name="Fortsæt").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    if javascript:
        expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Skriv borgerens navn")).to_have_attribute("href", "#contact_name")
    visit(page, "wizard: contact with errors", shot("wizard-error"))
    summary.get_by_role("link", name="Skriv borgerens navn").click()
    expect(page.locator("#contact_name")).to_be_focused()
    page.get_by_label("Borgerens navn").fill("Kim Hansen")
    page.get_by_label("Telefon", exact=True).fill("12 34 56 78")
    page.get_by_role("button", name="Fortsæt").click()
    page.get_by_label("Hvad betyder noget for borgeren?").fill("Vil gerne lære at strikke og møde andre")
    page.get_by_role("button", name="Fortsæt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Har borgeren brug for følgeskab?")
    visit(page, "wizard: accompaniment", shot("wizard-accompaniment"))
    page.get_by_label("Ja, find en følgeperson").check()
    page.get_by_role("button", name="Fortsæt").click()
    expect(page.get_by_label(re.compile("Strikkeklubben Vestervang"))).to_be_checked()
    visit(page, "wizard: community")
    page.get_by_role("button", name="Fortsæt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vil borgeren svare på tre spørgsmål om ensomhed?")
    page.get_by_role("button", name="Spring over").click()
    expect(page.get_by_role("heading", name="Tjek dine svar")).to_be_visible()
    visit(page, "wizard: check answers", shot("wizard-check"))
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()
    visit(page, "wizard: receipt", shot("wizard-receipt"))
    reference = page.locator("#referral-reference").inner_text().strip()
    page.get_by_role("link", name="Mine henvisninger").first.click()
    expect(page.get_by_role("link", name="Strikkeklubben Vestervang").first).to_be_visible()
    visit(page, "worklist", shot("worklist"))
    page.goto(f"/henvisninger/{reference}")
    expect(page.get_by_text(reference)).to_be_visible()
    visit(page, "referral", shot("referral"))
    page.get_by_role("link", name=re.compile(r"^c-")).first.click()
    expect(page.get_by_text("registreret af Mette Holm")).to_be_visible()  # a name, not an actor id
    visit(page, "citizen", shot("citizen"))
    return reference


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_professional_refers_a_new_citizen(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, "professional")
    reference = refer(page, javascript)
    stored = web_system.api(web_system.referrals, "GET", f"/v1/referrals/{reference}")
    assert stored["community_id"] == web_system.knitting_id and stored["referrer_id"] == "prof-jobcenter-mette"
    assert foreign == []


def citizens_and_referrals(web_system: WebSystem) -> tuple[int, int]:
    runtime = web_system.referrals.app.state.runtime
    citizens = runtime.read(lambda session: session.scalar(select(func.count()).select_from(Citizen)))
    params = {"referrer": "prof-jobcenter-mette", "limit": 200}
    return citizens, len(web_system.api(web_system.referrals, "GET", "/v1/referrals", params=params))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_consent_no_stores_nothing(new_page: Callable[..., Any], web_system: WebSystem, javascript: bool) -> None:
    before = citizens_and_referrals(web_system)
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, "professional")
    page.goto(f"/faellesskaber/{web_system.knitting_id}")
    page.get_by_role("button", name="Henvis en borger").click()
    page.get_by_label("En ny borger").check()
    page.get_by_role("button", name="Fortsæt").click()
    page.get_by_label("Nej", exact=True).check()
    page.get_by_role("button", name="Fortsæt").click()
    expect(page.get_by_role("heading", name="Borgeren har ikke givet samtykke")).to_be_visible()
    visit(page, "no consent", "wizard-no-consent" if javascript else None)
    assert citizens_and_referrals(web_system) == before
    assert foreign == []


def test_another_professionals_referral_is_the_403_page(page: Any, web_system: WebSystem) -> None:
    referrals = web_system.referrals
    citizen = web_system.api(referrals, "POST", "/v1/citizens", 201, json={"consent": {"purpose": "Henvisning"}})
    body = {
        "citizen_ref": citizen["citizen_ref"],
        "community_id": web_system.knitting_id,
        "referrer_id": "prof-jobcenter-mette",
    }
    referral = web_system.api(referrals, "POST", "/v1/referrals", 201, json=body)
    login_as(page, "professional-2")
    response = page.goto(f"/henvisninger/{referral['referral_id']}")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Du har ikke adgang til denne side")).to_be_visible()
    visit(page, "403", "forbidden")
