"""Parathed in Chromium through the running system, with and without JavaScript: a guide sees
a new referrer's readiness ("Kender programmet"), records a training (refused first with
Danish messages), the referrer is "Trænet" in the page and in the referrals service, and the
guide's worklist lists them under "Trænet, men har ikke henvist endnu". Professionals get the
403 page. axe-core on every page state, no request leaves the origin."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from shared.clock import COPENHAGEN
from shared.danish import da_date
from tests.integration.web.conftest import WebSystem, axe_check, login_as, no_foreign_requests, screenshot

pytestmark = pytest.mark.browser
TOPIC = "Introduktion til fællesskabsvejvisning"


def new_referrer(web_system: WebSystem) -> tuple[str, str]:
    """A professional who knows the programme but has not been trained: (actor id, name)."""
    mark = uuid.uuid4().hex[:6]
    actor_id, name = f"prof-parat-{mark}", f"Ulla Parat {mark}"
    body = {
        "actor_id": actor_id,
        "role": "professional",
        "name": name,
        "sector": "job_centre",
        "readiness": "aware",
    }
    web_system.api(web_system.referrals, "POST", "/v1/referrers", status=201, json=body)
    return actor_id, name


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_guide_records_a_training_and_sees_who_has_not_referred_yet(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    actor_id, name = new_referrer(web_system)
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, "guide", "/parathed")
    expect(page.get_by_role("heading", level=1)).to_have_text("Parathed")
    expect(page.get_by_role("link", name="Parathed")).to_have_attribute("aria-current", "page")
    row = page.locator(f"#henviser-{actor_id}")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Kender programmet")
    expect(row.get_by_role("cell").nth(2)).to_have_text("Ingen")
    expect(row.get_by_role("cell").nth(3)).to_have_text("0")
    axe_check(page, "readiness")

    row.get_by_role("link", name=f"Registrér træning for {name}").click()
    referrer_field = page.get_by_label("Henviser", exact=True)
    expect(referrer_field).to_have_value(actor_id)
    # Refused: no date, no topic.
    page.get_by_role("button", name="Registrér træning").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link")).to_have_text(
        ["Skriv datoen for træningen, fx 24.11.2026", "Vælg et emne fra listen"]
    )
    if javascript:
        expect(summary).to_be_focused()
    expect(page).to_have_title("Fejl: Parathed – Vejviser")
    expect(referrer_field).to_have_value(actor_id)
    axe_check(page, "readiness with errors")

    trained_on = datetime.now(COPENHAGEN).date() - timedelta(days=1)
    page.get_by_label("Dato for træningen").fill(trained_on.isoformat())
    page.get_by_label("Emne").select_option(label=TOPIC)
    page.get_by_role("button", name="Registrér træning").click()
    expect(page.get_by_role("status").filter(has_text=f"Træningen er registreret for {name}.")).to_contain_text(
        "Parathed nu: Trænet."
    )
    row = page.locator(f"#henviser-{actor_id}")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Trænet")
    expect(row.get_by_role("cell").nth(2)).to_have_text(f"{da_date(trained_on)}: {TOPIC}")
    axe_check(page, "readiness after a training")
    if javascript:
        screenshot(page, "parathed")

    recorded = web_system.api(web_system.referrals, "GET", f"/v1/referrers/{actor_id}")
    assert recorded["readiness"] == "trained"
    assert recorded["trainings"] == [
        {"trained_on": trained_on.isoformat(), "topic": "introduction", "topic_label": TOPIC}
    ]

    # The filter shows the trained ones.
    page.get_by_label("Parathed", exact=True).select_option(label="Trænet")
    page.get_by_role("button", name="Vis").click()
    expect(page.locator(f"#henviser-{actor_id}")).to_be_visible()
    expect(page.get_by_role("cell", name="Kender programmet")).to_have_count(0)

    # The guide's worklist: trained, has not referred yet.
    page.goto("/henvisninger")
    section = page.get_by_role("region", name="Trænet, men har ikke henvist endnu")
    expect(section.get_by_role("listitem").filter(has_text=name)).to_have_text(
        f"{name} (fagperson, trænet {da_date(trained_on)})"
    )
    axe_check(page, "worklist with the trained referrers")
    section.get_by_role("link", name="Se alle henviseres parathed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Parathed")
    assert foreign == []


def test_professionals_get_the_403_page_and_no_trained_list(page: Any, web_system: WebSystem) -> None:
    login_as(page, "professional", "/henvisninger")
    expect(page.get_by_role("heading", name="Trænet, men har ikke henvist endnu")).to_have_count(0)
    expect(page.get_by_role("link", name="Parathed")).to_have_count(0)
    response = page.goto("/parathed")
    assert response is not None and response.status == 403
    axe_check(page, "readiness refused")
