"""Evaluering (issue 13): the analytics dashboard behind the web's login. An analyst finds it
in the menu, in Chromium with and without JavaScript, and reads the same sections and charts
the analytics service renders for them, inside the web's layout, with nothing loaded from
another origin and no CSP report; its links to earlier snapshots are the web's own pages.
Only analysts, guides and admins get it (others the Danish 403 page, nobody without login);
an unknown snapshot is the 404 page; a switched-off dashboard is said in Danish. axe on
every state."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from services.analytics.service import take_snapshot
from tests.helpers import tls, token
from tests.integration.web.conftest import (
    WebSystem,
    axe_check,
    csp_violations,
    http_login,
    login_as,
    no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.browser
ANALYST_TOKEN = token("analyst", "analyst-vive")
READERS = ("analyst", "guide", "admin")
OTHERS = ("professional", "ambassador", "community_contact", "dpo")


@pytest.fixture(scope="module")
def snapshots(web_system: WebSystem) -> tuple[str, str]:
    """Two snapshots in the system's analytics service: one a day back, and the latest."""
    runtime = web_system.analytics.runtime
    now = runtime.clock.now()

    async def take() -> tuple[str, str]:
        earlier = await asyncio.to_thread(take_snapshot, runtime, now - timedelta(days=1))
        latest = await asyncio.to_thread(take_snapshot, runtime, now)
        return earlier, latest

    return web_system.run(take())


def analytics_page(web_system: WebSystem, path: str) -> str:
    """What the analytics service itself renders for the analyst (the fragment the web shows)."""
    headers = {"Authorization": f"Bearer {ANALYST_TOKEN}"}
    with httpx.Client(base_url=web_system.analytics.base_url, headers=headers, timeout=30, verify=tls()) as client:
        answer = client.get(path, params={"embed": "true"})
    assert answer.status_code == 200, answer.text
    return answer.text


def texts(pattern: str, page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", found)).strip() for found in re.findall(pattern, page, re.DOTALL)]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_analyst_reads_the_evaluation_behind_login(
    new_page: Callable[..., Any], web_system: WebSystem, snapshots: tuple[str, str], javascript: bool
) -> None:
    earlier, latest = snapshots
    page = new_page(javascript=javascript)
    foreign, reports = no_foreign_requests(page), csp_violations(page)
    login_as(page, "analyst")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Evaluering").click()
    expect(page).to_have_url(re.compile(r"/evaluering$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Evaluering")
    expect(page.get_by_role("link", name="Evaluering")).to_have_attribute("aria-current", "page")

    own = analytics_page(web_system, "/dashboard")
    assert page.locator(".evaluation h2").all_inner_texts() == texts(r"<h2[^>]*>(.*?)</h2>", own)
    titles = page.eval_on_selector_all(".evaluation svg.chart > title", "nodes => nodes.map(n => n.textContent)")
    assert titles == texts(r'class="chart"[^>]*><title>(.*?)</title>', own) and len(titles) >= 12
    assert page.locator(".evaluation p").first.inner_text() == texts(r"<p>(.*?)</p>", own)[0]
    hrefs = page.locator(".evaluation a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {f"/evaluering/{earlier}", f"/evaluering/{latest}"} <= set(hrefs)
    assert not [href for href in hrefs if not href.startswith("/evaluering/")], hrefs
    axe_check(page, f"evaluering ({'js' if javascript else 'no js'})")
    if javascript:
        screenshot(page, "evaluering")

    page.locator(f'.evaluation a[href="/evaluering/{earlier}"]').click()
    expect(page).to_have_url(re.compile(f"/evaluering/{earlier}$"))
    older = analytics_page(web_system, f"/dashboard/{earlier}")
    expect(page.locator(".evaluation p").first).to_have_text(texts(r"<p>(.*?)</p>", older)[0])
    page.get_by_role("link", name="Gå til det seneste øjebliksbillede").click()
    expect(page).to_have_url(re.compile(r"/evaluering$"))
    axe_check(page, "evaluering, back at the latest")
    assert foreign == [] and reports == []


def test_only_analysts_guides_and_admins_see_the_evaluation(web_system: WebSystem, snapshots: tuple[str, str]) -> None:
    for persona in READERS:
        with http_login(web_system, persona) as web:
            shown = web.get("/evaluering")
            assert shown.status_code == 200 and "Tragten" in shown.text, persona
            assert 'href="/evaluering"' in shown.text  # the menu item
            assert web.get(f"/evaluering/{snapshots[0]}").status_code == 200
            unknown = web.get("/evaluering/no-such-snapshot")
            assert unknown.status_code == 404 and "findes ikke" in unknown.text
    for persona in OTHERS:
        with http_login(web_system, persona) as web:
            refused = web.get("/evaluering")
            assert refused.status_code == 403 and "Du har ikke adgang til denne side" in refused.text, persona
            assert "Tragten" not in refused.text and 'href="/evaluering"' not in refused.text
            assert web.get(f"/evaluering/{snapshots[0]}").status_code == 403
    with httpx.Client(base_url=web_system.url, verify=tls()) as anonymous:
        sent = anonymous.get("/evaluering")
        assert sent.status_code in (302, 303, 307) and sent.headers["location"] == "/login?next=%2Fevaluering"


def test_a_switched_off_dashboard_is_said_in_danish(web_system: WebSystem) -> None:
    # A backing service without /dashboard answers 404 to it, as analytics does with
    # DASHBOARD_ENABLED=false: here the catalogue stands in for such an analytics service.
    web = web_system.another_web(analytics_url=web_system.catalogue.base_url)
    with http_login(web_system, "analyst", web.base_url) as client:
        shown = client.get("/evaluering")
    assert shown.status_code == 200
    assert "Evalueringen er slået fra her" in shown.text and 'href="/overblik"' in shown.text
