"""The professional's journeys in Chromium through the running system, logged in through the
development identity provider, with and without JavaScript: search "strik", open the card,
refer a new citizen with consent, see the reference and find it in the worklist; consent
"nej" stores nothing; a validation error focuses the error summary; another professional's
referral is the 403 page. axe-core finds no serious or critical violation on any page or
state visited, and each page is photographed for the README (docs/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from shared.settings import REPO_ROOT
from tests.integration.web.pages_system import GUIDE, System, call, running_system

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's Chromium")


@pytest.fixture
async def system(nats_clean: str, tmp_path: Path) -> AsyncIterator[System]:
    async with running_system(nats_clean, tmp_path) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        yield chromium
        await chromium.close()


async def axe_check(page: Page, state: str) -> None:
    """No serious or critical WCAG 2.1 A/AA violation in this page state."""
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{state}: {bad}"


async def visit(page: Page, name: str | None, state: str, javascript: bool = True) -> None:
    # axe is injected as a script, which a context without JavaScript never runs (it waits
    # for ever); the pages are the same server-rendered HTML in the JavaScript journeys.
    if not javascript:
        return
    await axe_check(page, state)
    if name:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def logged_in(browser: object, system: System, persona: str, *, javascript: bool) -> BrowserContext:
    context: BrowserContext = await browser.new_context(  # type: ignore[attr-defined]
        java_script_enabled=javascript, base_url=system.web.base_url, viewport={"width": 1200, "height": 900}
    )
    page = await context.new_page()
    await page.goto("/soeg")
    await page.get_by_role("link", name="Log ind").click()
    await page.get_by_role("button", name=re.compile(persona)).click()
    await expect(page.get_by_role("heading", name="Søg fællesskaber", level=1)).to_be_visible()
    await page.close()
    return context


async def search_strik(page: Page, *, javascript: bool) -> None:
    await page.goto("/soeg")
    await page.get_by_label("Hvad leder borgeren efter?").fill("strik")
    if javascript:
        # live search: the results change under the field, which keeps the focus
        await expect(page.get_by_role("link", name="Fjern filter: Søgeord: strik")).to_be_visible()
        await expect(page.get_by_label("Hvad leder borgeren efter?")).to_be_focused()
        assert "q=strik" in page.url
    await page.get_by_role("button", name="Søg", exact=True).click()
    if javascript:
        await expect(page.locator("#results-heading")).to_be_focused()
        await expect(page.locator("#status-region")).to_contain_text("fællesskaber fundet")
    await expect(page.get_by_role("link", name="Strikkeklubben Vestervang")).to_be_visible()


async def refer(page: Page, system: System, *, javascript: bool, shots: bool) -> str:
    def shot(name: str) -> str | None:
        return name if shots else None

    await search_strik(page, javascript=javascript)
    await visit(page, shot("search"), "search results", javascript)
    await page.get_by_text("Filtre", exact=True).click()
    await page.get_by_label("Kun med ledige pladser").check()
    if not javascript:
        await page.get_by_role("button", name="Søg", exact=True).click()
    await expect(page.get_by_role("link", name="Fjern filter: Kun med ledige pladser")).to_be_visible()
    await expect(page.get_by_role("link", name="Hæklecaféen")).to_have_count(0)
    await visit(page, shot("search-filters"), "search with a filter", javascript)
    await page.get_by_role("link", name="Strikkeklubben Vestervang").click()
    await visit(page, shot("community-card"), "community card", javascript)
    await page.get_by_role("button", name="Henvis en borger").click()
    await visit(page, shot("wizard-citizen"), "wizard: citizen", javascript)
    await page.get_by_label("En ny borger").check()
    await page.get_by_role("button", name="Fortsæt").click()
    await visit(page, shot("wizard-consent"), "wizard: consent", javascript)
    await page.get_by_label("Ja, borgeren giver samtykke").check()
    await page.get_by_role("button", name="Fortsæt").click()
    # a validation error: the summary is focused and links to the field
    await page.get_by_role("button", name="Fortsæt").click()
    summary = page.locator("[data-error-summary]")
    await expect(summary).to_be_visible()
    if javascript:
        await expect(summary).to_be_focused()
    await expect(summary.get_by_role("link", name="Skriv borgerens navn")).to_have_attribute("href", "#contact_name")
    await visit(page, shot("wizard-error"), "wizard: contact with errors", javascript)
    await summary.get_by_role("link", name="Skriv borgerens navn").click()
    await expect(page.locator("#contact_name")).to_be_focused()
    await page.get_by_label("Borgerens navn").fill("Kim Hansen")
    await page.get_by_label("Telefon").fill("12 34 56 78")
    await page.get_by_role("button", name="Fortsæt").click()
    await page.get_by_label("Hvad betyder noget for borgeren?").fill("Vil gerne lære at strikke og møde andre")
    await page.get_by_role("button", name="Fortsæt").click()
    await visit(page, shot("wizard-accompaniment"), "wizard: accompaniment", javascript)
    await page.get_by_label("Ja, find en følgeperson").check()
    await page.get_by_role("button", name="Fortsæt").click()
    await expect(page.get_by_label(re.compile("Strikkeklubben Vestervang"))).to_be_checked()
    await visit(page, None, "wizard: community", javascript)
    await page.get_by_role("button", name="Fortsæt").click()
    await expect(page.get_by_role("heading", name="Tjek dine svar")).to_be_visible()
    await visit(page, shot("wizard-check"), "wizard: check answers", javascript)
    await page.get_by_role("button", name="Send henvisning").click()
    await expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()
    await visit(page, shot("wizard-receipt"), "wizard: receipt", javascript)
    reference = (await page.locator("#referral-reference").inner_text()).strip()
    await page.get_by_role("link", name="Mine henvisninger").first.click()
    await expect(page.get_by_role("link", name="Strikkeklubben Vestervang").first).to_be_visible()
    await visit(page, shot("worklist"), "worklist", javascript)
    await page.goto(f"/henvisninger/{reference}")
    await expect(page.get_by_text(reference)).to_be_visible()
    await visit(page, shot("referral"), "referral", javascript)
    await page.get_by_role("link", name=re.compile(r"^c-")).first.click()
    await visit(page, shot("citizen"), "citizen", javascript)
    return reference


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_a_professional_refers_a_new_citizen(system: System, browser: object, javascript: bool) -> None:
    context = await logged_in(browser, system, "Mette Holm", javascript=javascript)
    page = await context.new_page()
    reference = await refer(page, system, javascript=javascript, shots=javascript)
    stored = await call(system.referrals, GUIDE, "GET", f"/v1/referrals/{reference}", 200)
    assert stored["community_id"] == system.knitting_id and stored["referrer_id"] == "prof-jobcenter-mette"
    await context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_consent_no_stores_nothing(system: System, browser: object, javascript: bool) -> None:
    context = await logged_in(browser, system, "Mette Holm", javascript=javascript)
    page = await context.new_page()
    await page.goto(f"/faellesskaber/{system.knitting_id}")
    await page.get_by_role("button", name="Henvis en borger").click()
    await page.get_by_label("En ny borger").check()
    await page.get_by_role("button", name="Fortsæt").click()
    await page.get_by_label("Nej", exact=True).check()
    await page.get_by_role("button", name="Fortsæt").click()
    await expect(page.get_by_role("heading", name="Borgeren har ikke givet samtykke")).to_be_visible()
    await visit(page, "wizard-no-consent", "no consent", javascript)
    referrals = system.referrals.app.state.runtime
    from sqlalchemy import func, select

    from services.referrals.tables import Citizen

    assert referrals.read(lambda session: session.scalar(select(func.count()).select_from(Citizen))) == 0
    assert await call(system.referrals, GUIDE, "GET", "/v1/referrals", 200) == []
    await context.close()


async def test_another_professionals_referral_is_the_403_page(system: System, browser: object) -> None:
    citizen = await call(
        system.referrals, GUIDE, "POST", "/v1/citizens", 201, json={"consent": {"purpose": "Henvisning"}}
    )
    referral = await call(
        system.referrals,
        GUIDE,
        "POST",
        "/v1/referrals",
        201,
        json={
            "citizen_ref": citizen["citizen_ref"],
            "community_id": system.knitting_id,
            "referrer_id": "prof-jobcenter-mette",
        },
    )
    context = await logged_in(browser, system, "Jens Mortensen", javascript=True)
    page = await context.new_page()
    response = await page.goto(f"/henvisninger/{referral['referral_id']}")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", name="Du har ikke adgang til denne side")).to_be_visible()
    await visit(page, "forbidden", "403")
    await context.close()
