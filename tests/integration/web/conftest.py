"""The whole system for the web's browser tests, and the browser.

`web_system` runs catalogue, referrals, notifications and the web client in-process (each
served by uvicorn on a free port, on a test NATS and SQLite) in a background event loop, once
for the package, so synchronous Playwright tests can drive it. `browser` is Debian's Chromium
(`/usr/bin/chromium`, never `playwright install`), headless. Helpers:

- `login_as(page, persona)`: logs in through the development identity provider's persona
  picker, in the browser (works with JavaScript off too);
- `axe_check(page, state)`: axe-core with the WCAG 2.0/2.1 A and AA tags; fails on serious or
  critical violations (a page without JavaScript is checked through a script-enabled mirror);
- `no_foreign_requests(page)`: records every request whose origin is not the web's (the list
  must stay empty); `csp_violations(page)` records the console's CSP reports;
- `screenshot(page, name)`: saves docs/screenshots/<name>.png for the README.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from services.catalogue.main import build as build_catalogue
from services.notifications.main import build as build_notifications
from services.referrals.main import build as build_referrals
from services.web.devidp.personas import BY_KEY
from services.web.main import build as build_web
from services.web.settings import WebSettings
from shared.settings import Settings
from tests.helpers import ServedApp, token

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GUIDE_TOKEN = token("guide", "guide-anne")
T = TypeVar("T")
# The origin each test page belongs to (no_foreign_requests compares with it), and the pages
# with JavaScript off (axe_check mirrors those, see there).
ORIGINS: dict[int, str] = {}
WITHOUT_JS: set[int] = set()


class LoopThread:
    """An event loop in a thread of its own: the servers live there while the (synchronous)
    browser tests run in the main thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="web-system", daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class WebSystem:
    catalogue: ServedApp
    referrals: ServedApp
    notifications: ServedApp
    web: ServedApp
    loop: LoopThread
    tmp: Path
    stack: AsyncExitStack
    extra_webs: list[ServedApp] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.web.base_url

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(work)

    def web_settings(self, port: int, **overrides: Any) -> WebSettings:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{self.tmp / f'web-{port}.db'}",
            "port": port,
            "public_base_url": f"http://127.0.0.1:{port}",
            "catalogue_url": self.catalogue.base_url,
            "referrals_url": self.referrals.base_url,
            "notifications_url": self.notifications.base_url,
            **overrides,
        }
        return WebSettings(**values)

    def another_web(self, **overrides: Any) -> ServedApp:
        """A second web client over the same services, with other settings (e.g. a short
        idle timeout); stopped with the system."""
        served = ServedApp(None)
        served.app = build_web(self.web_settings(served.port, **overrides))
        self.run(self.stack.enter_async_context(served))
        return served


def _service_settings(name: str, nats_url: str, tmp: Path) -> Settings:
    return Settings(
        service=name,
        database_url=f"sqlite:///{tmp / (name + '.db')}",
        nats_url=nats_url,
        relay_interval_seconds=0.05,
        retry_backoff_seconds=[0.1],
    )


async def _start(system_tmp: Path, nats_url: str, loop: LoopThread) -> WebSystem:
    stack = AsyncExitStack()
    served = {}
    for name, build in (
        ("catalogue", build_catalogue),
        ("referrals", build_referrals),
        ("notifications", build_notifications),
    ):
        served[name] = await stack.enter_async_context(ServedApp(build(_service_settings(name, nats_url, system_tmp))))
    web = ServedApp(None)  # its port first: the web's public URL (and OIDC redirect) names it
    system = WebSystem(served["catalogue"], served["referrals"], served["notifications"], web, loop, system_tmp, stack)
    web.app = build_web(system.web_settings(web.port, nats_url=nats_url))
    await stack.enter_async_context(web)
    # The referring personas are known referrers, so they may refer from their first login.
    async with system.referrals.client(GUIDE_TOKEN) as client:
        for key in ("professional", "professional-2", "ambassador"):
            persona = BY_KEY[key]
            body = {"actor_id": persona.actor_id, "role": str(persona.role), "name": persona.name}
            if key != "ambassador":
                body["sector"] = "job_centre"
            response = await client.post("/v1/referrers", json=body)
            assert response.status_code in (201, 409), response.text
    return system


@pytest.fixture(scope="package")
def web_system(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSystem]:
    from tests.conftest import _purge_streams

    loop = LoopThread()
    loop.run(_purge_streams(nats_url))
    system = loop.run(_start(tmp_path_factory.mktemp("web-system"), nats_url, loop))
    try:
        yield system
    finally:
        loop.run(system.stack.aclose())
        loop.run(_purge_streams(nats_url))
        loop.close()


# ---------------------------------------------------------------------- the browser


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (`make test` installs it with apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, web_system: WebSystem) -> Iterator[Callable[..., Any]]:
    """`new_page(javascript=True, base_url=None)`: a page in a fresh browser context (its own
    cookies), closed after the test."""
    contexts: list[Any] = []

    def make(javascript: bool = True, base_url: str | None = None) -> Any:
        context = browser.new_context(
            base_url=base_url or web_system.url,
            java_script_enabled=javascript,
            locale="da-DK",
            viewport={"width": 1280, "height": 900},
        )
        contexts.append(context)
        page = context.new_page()
        ORIGINS[id(page)] = base_url or web_system.url
        if not javascript:
            WITHOUT_JS.add(id(page))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture
def page_without_js(new_page: Callable[..., Any]) -> Any:
    return new_page(javascript=False)


# ---------------------------------------------------------------------- helpers


def login_as(page: Any, persona: str, next_path: str = "/") -> None:
    """Log in as one of the development IdP's personas (guide, professional, professional-2,
    ambassador, community_contact, analyst, admin) through its picker."""
    from urllib.parse import quote

    page.goto(f"/login?next={quote(next_path)}")
    page.get_by_role("link", name="Log ind").click()
    page.wait_for_url("**/dev-idp/authorize**")
    page.get_by_role("button", name=BY_KEY[persona].name).click()
    page.wait_for_url(lambda url: "/dev-idp/" not in url and "/login" not in url)


def axe_check(page: Any, state: str = "") -> None:
    """No serious or critical WCAG 2.0/2.1 A or AA violation in the page as it is now.

    axe needs JavaScript (it never finishes on a page with scripts off), so a page without
    JavaScript is checked through a mirror: the same HTML, scripts removed, served at the same
    address to a script-enabled page (its CSS and images load from the web as usual)."""
    from axe_playwright_python.sync_playwright import Axe

    target, mirror_context = page, None
    if id(page) in WITHOUT_JS:
        html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.IGNORECASE | re.DOTALL)
        address = page.url
        mirror_context = page.context.browser.new_context(viewport=page.viewport_size)
        target = mirror_context.new_page()
        target.route(
            lambda url: url == address,
            lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html),
        )
        target.goto(address)
    try:
        options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
        results = Axe().run(target, options=options)
    finally:
        if mirror_context is not None:
            mirror_context.close()
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in serious
    )
    assert not serious, f"axe found serious/critical violations on {state or page.url}:\n{report}"


def no_foreign_requests(page: Any) -> list[str]:
    """Start recording requests to another origin than the page's base; returns the (live)
    list, which a test asserts empty at its end."""
    foreign: list[str] = []
    own = ORIGINS[id(page)]

    def record(request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        origin = f"{url.scheme}://{url.netloc}"
        if origin != own:
            foreign.append(request.url)

    page.on("request", record)
    return foreign


def csp_violations(page: Any) -> list[str]:
    reports: list[str] = []
    page.on(
        "console",
        lambda message: reports.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return reports


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["WebSystem", "axe_check", "csp_violations", "login_as", "no_foreign_requests", "screenshot"]
