"""Mine følgeopgaver through the running system, in Chromium with and without JavaScript.

A professional refers a citizen who needs accompaniment (through the referrals API as that
professional: this is about the ambassador's side) and the community proposes a first visit.
The ambassador Lars logs in by a magic link, sees the request with its flags and proposed
visit, takes it, finds the meeting place, the visit in Copenhagen time and the citizen's
shared first name and phone, and marks that he went along. The second ambassador Sofie, who
had the same request open, loses the race with a clear Danish message and sees it as taken
by another. Declining takes a request off one's own list only; a guide looks without taking;
an ambassador refers a citizen they met through the wizard. axe-core on every page state,
no request leaves the origin, screenshots for the docs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from shared.clock import COPENHAGEN
from shared.danish import da_datetime
from tests.integration.web.conftest import (
    EMAILS,
    WebSystem,
    axe_check,
    login_as,
    login_by_mail,
    no_foreign_requests,
    screenshot,
)
from tests.integration.web.test_wizard_issue12 import as_mette, new_citizen, pick_knitting_club

pytestmark = pytest.mark.browser
LARS, SOFIE = "amb-lars", "amb-sofie"
RACE_LOST = "En anden ambassadør nåede at tage opgaven"


def refer_needing_accompaniment(web_system: WebSystem, *, visit: datetime | None = None) -> str:
    """Mette refers Kim, who needs accompaniment and special considerations and lets the
    community and companion see first name and phone; the community may propose a visit."""
    citizen = {
        "consent": {"purpose": "Henvisning til et fællesskab"},
        "contact": {"name": "Kim Hansen", "phone": "12 34 56 78"},
    }
    citizen_ref = as_mette(web_system, "POST", "/v1/citizens", 201, json=citizen)["citizen_ref"]
    body = {
        "citizen_ref": citizen_ref,
        "community_id": web_system.knitting_id,
        "needs_accompaniment": True,
        "special_considerations": True,
        "share_contact_with_community": True,
    }
    referral_id: str = as_mette(web_system, "POST", "/v1/referrals", 201, json=body)["referral_id"]
    if visit is not None:
        web_system.api(
            web_system.referrals,
            "POST",
            f"/v1/referrals/{referral_id}/propose_visit",
            json={"visit_at": visit.isoformat()},
        )
    return referral_id


def next_tuesday_evening() -> datetime:
    """The club's next Tuesday at 17.00, Copenhagen time (a week ahead at least)."""
    day = datetime.now(COPENHAGEN).date() + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime.combine(day, time(17, 0), tzinfo=COPENHAGEN)


def log_in(page: Any, web_system: WebSystem, key: str) -> None:
    """A volunteer logs in by a magic link and lands on their accompaniment tasks."""
    login_by_mail(page, web_system, EMAILS[key])
    expect(page).to_have_url(re.compile(r"/foelgeopgaver$"))


def open_card(page: Any, referral_id: str) -> Any:
    return page.locator(f"#opgave-{referral_id}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_ambassador_takes_a_request_goes_along_and_the_other_sees_it_taken(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    visit = next_tuesday_evening()
    referral_id = refer_needing_accompaniment(web_system, visit=visit)
    lars, sofie = new_page(javascript=javascript), new_page(javascript=javascript)

    def shot(name: str) -> None:
        if javascript:
            screenshot(lars, name)

    foreign = no_foreign_requests(lars) + no_foreign_requests(sofie)
    log_in(lars, web_system, "ambassador")
    card = open_card(lars, referral_id)
    expect(card).to_contain_text("Strikkeklubben Vestervang")
    expect(card).to_contain_text("Ja, borgeren har brug for særlige hensyn")
    expect(card).to_contain_text(f"Foreslået {da_datetime(visit, short=True)}")
    expect(card).not_to_contain_text("Kim")  # nothing about the citizen before it is taken
    axe_check(lars, "accompaniment: open requests")
    shot("foelgeopgaver")

    # Sofie has the same request open on her screen
    log_in(sofie, web_system, "ambassador-2")
    expect(open_card(sofie, referral_id)).to_be_visible()

    card.get_by_role("button", name="Jeg tager den").click()
    expect(lars.get_by_role("status").filter(has_text="Du har taget opgaven")).to_be_visible()
    expect(open_card(lars, referral_id)).to_have_count(0)
    appointment = lars.locator(f"#aftale-{referral_id}")
    expect(appointment).to_contain_text("Følgeskab aftalt")
    expect(appointment).to_contain_text(da_datetime(visit, short=True))
    expect(appointment).to_contain_text("Skolevej 1, 4100")
    expect(appointment).to_contain_text("Birthe Holm, +45 12 34 56 78")
    expect(appointment).to_contain_text("Kim, telefon 12 34 56 78")  # first name only, as the citizen chose
    expect(appointment).not_to_contain_text("Hansen")
    axe_check(lars, "accompaniment: taken, an appointment")
    shot("foelgeopgaver-aftale")

    # Sofie's screen is stale: she loses the race and is told so, with the list updated
    open_card(sofie, referral_id).get_by_role("button", name="Jeg tager den").click()
    problem = sofie.locator("#problem")
    expect(problem).to_contain_text(RACE_LOST)
    if javascript:
        expect(problem).to_be_focused()
    expect(open_card(sofie, referral_id)).to_have_count(0)
    expect(sofie.locator(f"#taget-{referral_id}")).to_contain_text("Taget af en anden")
    expect(sofie.locator(f"#aftale-{referral_id}")).to_have_count(0)
    axe_check(sofie, "accompaniment: the race lost")
    if javascript:
        screenshot(sofie, "foelgeopgaver-taget")

    appointment.get_by_role("button", name="Jeg har fulgt borgeren derhen").click()
    expect(lars.get_by_text("Det er registreret, at du har fulgt borgeren derhen")).to_be_visible()
    done = lars.locator(f"#aftale-{referral_id}")
    expect(done).to_contain_text("Du har fulgt borgeren derhen.")
    expect(done.get_by_role("button")).to_have_count(0)
    axe_check(lars, "accompaniment: went along")

    stored = web_system.api(web_system.referrals, "GET", f"/v1/referrals/{referral_id}")
    assert stored["status"] == "accompanied" and stored["companion_id"] == LARS
    sofie.goto("/foelgeopgaver")
    expect(sofie.locator(f"#taget-{referral_id}")).to_be_visible()
    # volunteers often use a phone
    lars.set_viewport_size({"width": 390, "height": 844})
    lars.reload()
    axe_check(lars, "accompaniment: on a phone")
    shot("foelgeopgaver-mobil")
    assert foreign == []


def test_declining_takes_a_request_off_my_list_only(new_page: Callable[..., Any], web_system: WebSystem) -> None:
    referral_id = refer_needing_accompaniment(web_system)
    sofie = new_page()
    log_in(sofie, web_system, "ambassador-2")
    card = open_card(sofie, referral_id)
    expect(card).to_contain_text("Ikke aftalt endnu")
    card.get_by_role("button", name="Ikke denne gang").click()
    expect(sofie.get_by_text("Opgaven er fjernet fra din liste")).to_be_visible()
    expect(open_card(sofie, referral_id)).to_have_count(0)
    axe_check(sofie, "accompaniment: declined")
    lars = new_page()
    login_as(lars, "ambassador", "/foelgeopgaver")
    expect(open_card(lars, referral_id)).to_be_visible()


def test_a_guide_looks_without_taking(page: Any, web_system: WebSystem) -> None:
    referral_id = refer_needing_accompaniment(web_system)
    login_as(page, "guide", "/foelgeopgaver")
    card = open_card(page, referral_id)
    expect(card.get_by_role("link", name="Find en følgeperson på henvisningen")).to_be_visible()
    expect(card.get_by_role("button")).to_have_count(0)
    axe_check(page, "accompaniment: a guide's view")


def test_other_roles_get_the_403_page(page: Any, web_system: WebSystem) -> None:
    login_as(page, "community_contact")
    response = page.goto("/foelgeopgaver")
    assert response is not None and response.status == 403


def test_an_ambassador_refers_a_citizen_they_met(page_without_js: Any, web_system: WebSystem) -> None:
    # Without JavaScript only: the wizard's scripted parts are test_journeys_browser's [js].
    page = page_without_js
    foreign = no_foreign_requests(page)
    log_in(page, web_system, "ambassador")
    page.get_by_role("link", name="Henvis en borger").click()
    page.get_by_role("button", name="Start henvisning").click()
    new_citizen(page, "Ib Jensen", "87 65 43 21", recorder="Lars Bech")
    page.get_by_label("Hvad betyder noget for borgeren?").fill("Mødte Ib i biblioteket; vil gerne strikke")
    page.get_by_role("button", name="Fortsæt").click()
    page.get_by_label("Ja, find en følgeperson").check()
    page.get_by_role("button", name="Fortsæt").click()
    pick_knitting_club(page)
    page.get_by_role("button", name="Fortsæt").click()
    page.get_by_role("button", name="Spring over").click()
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()
    axe_check(page, "ambassador: receipt")
    reference = page.locator("#referral-reference").inner_text().strip()
    page.goto("/foelgeopgaver")
    own = page.locator("section", has=page.get_by_role("heading", name="Borgere, du selv har henvist"))
    expect(own.locator(f'a[href="/henvisninger/{reference}"]')).to_be_visible()
    expect(open_card(page, reference)).to_have_count(0)  # one's own referral is not one's task
    stored = web_system.api(web_system.referrals, "GET", f"/v1/referrals/{reference}")
    assert stored["referrer_id"] == LARS and stored["needs_accompaniment"]
    assert foreign == []
