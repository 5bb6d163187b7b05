"""The dashboard in a real headless Chromium (sending an analyst's bearer token, as a proxy
in front of it would): the charts are there, nothing is fetched from outside the service,
and a screenshot goes to bench/results/dashboard.png."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse

import pytest

from services.analytics import service
from services.analytics.cli import write_direct
from services.analytics.main import build
from services.analytics.settings import AnalyticsSettings
from shared.db import Database
from tests.helpers import ServedApp, token

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[3] / "bench" / "results" / "dashboard.png"
CHART_TITLES = [
    "Tragten: fra henvisning til fællesskab",
    "Henvisninger pr. generation i kaskaden",
    "Kaskadens vækst pr. måned",
    "Selvbærende over tid: andel henvisninger fra andre end guiderne",
    "Henvisninger pr. rolle",
    "Henvisninger pr. sektor",
    "Følgeskabsgabet",
    "Rækkevidde i målgrupperne (antal borgere)",
    "Afviste henvisninger pr. årsag",
    "Uopfyldte behov pr. kategori",
    "Uopfyldte behov pr. boligområde",
    "Parathed: vejvisere, der mindst er nået hertil",
    "Ensomhedsscore (3–9) ved henvisningen og efter 12 uger",
]

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)")
async def test_dashboard_renders_offline_in_chromium(nats_clean: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    settings = AnalyticsSettings(
        database_url=f"sqlite:///{tmp_path / 'a.db'}", nats_url=nats_clean, relay_interval_seconds=0.05
    )
    db = Database(settings.database_url)
    write_direct(db, 3000, seed=3, progress=False)
    db.dispose()
    app = build(settings)
    async with ServedApp(app) as served:
        await asyncio.to_thread(service.take_snapshot, served.runtime)
        requested: list[str] = []
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            try:
                page = await browser.new_page(
                    viewport={"width": 1200, "height": 900},
                    extra_http_headers={"Authorization": f"Bearer {token('analyst')}"},
                )
                page.on("request", lambda request: requested.append(request.url))
                response = await page.goto(f"{served.base_url}/dashboard", wait_until="networkidle")
                assert response is not None and response.status == 200
                titles = await page.eval_on_selector_all("svg.chart > title", "nodes => nodes.map(n => n.textContent)")
                for title in CHART_TITLES:
                    assert title in titles
                # Every chart drew something: bars, columns or a line.
                drawn = await page.eval_on_selector_all(
                    "svg.chart", "nodes => nodes.map(n => n.querySelectorAll('rect, path').length)"
                )
                assert all(count > 0 for count in drawn), drawn
                assert await page.locator("h1").inner_text() == "Fællesskabsvejvisning i tal"
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOT), full_page=True)
                # Printed, the list of earlier snapshots (links, no use on paper) is left out.
                history = page.locator("nav.history")
                assert await history.is_visible()
                await page.emulate_media(media="print")
                assert not await history.is_visible()
            finally:
                await browser.close()
        external = [url for url in requested if urlparse(url).netloc != urlparse(served.base_url).netloc]
        assert requested and external == []
