"""The whole system for the web's browser tests, and the browser.

`web_system` runs catalogue, referrals, notifications, analytics and the web client in-process
(each served by uvicorn on a free port, on a test NATS and SQLite, mail to a real aiosmtpd
server) in background event loops, once for the package, so synchronous Playwright tests can
drive it. The web client has a loop of its own, as it has a process of its own in production:
where it calls a backing service synchronously from its loop (the header's unread count on an
error page), a shared loop would stall that service until the call timed out. The system is
shared by the package's tests: each test makes its own citizens and referrals, and looks for
its own mail. `browser` is Debian's Chromium
(`/usr/bin/chromium`, never `playwright install`), headless. Helpers:

- `login_as(page, persona)`: logs in through the development identity provider's persona
  picker, in the browser (works with JavaScript off too);
- `axe_check(page, state)`: axe-core with the WCAG 2.0/2.1 A and AA tags; fails on serious or
  critical violations (a page without JavaScript is checked through a script-enabled mirror);
- `no_foreign_requests(page)`: records every request whose origin is not the web's (the list
  must stay empty); `csp_violations(page)` records the console's CSP reports;
- `screenshot(page, name)`: saves docs/screenshots/<name>.png for the README;
- `http_login(persona)`: an httpx client logged in through the same identity provider, as a
  browser without JavaScript would (the HTTP journeys);
- `web_system.api(...)`: a call to a backing service's API (what the journeys check there);
- `web_system.mail_to(address, subject)`: waits for a mail in the SMTP server; `links_in(mail)`
  the web addresses in it; `login_by_mail(page, email)`: the volunteers' magic-link login.

The system holds a knitting club with places ("Strikkeklubben Vestervang") and a full one
("Hæklecaféen"), both in the area `vestervang` with Birthe Holm (birthe@forening.example.dk)
as contact; the referring personas are known referrers with work e-mails (`EMAILS`), and both
ambassadors (Lars Bech, Sofie Dahl) offer accompaniment in `vestervang`.
"""

from __future__ import annotations

import asyncio
import functools
import html
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from services.analytics.main import build as build_analytics
from services.catalogue.main import build as build_catalogue
from services.notifications.main import build as build_notifications
from services.referrals.main import build as build_referrals
from services.web.api.deps import SESSION_COOKIE
from services.web.devidp.personas import BY_KEY
from services.web.main import build as build_web
from services.web.settings import WebSettings
from shared.natsserver import free_port
from shared.settings import Settings
from tests.helpers import MailBox, ServedApp, ServedApps, eventually, tls, token

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GUIDE_TOKEN = token("guide", "guide-anne")
ADMIN_TOKEN = token("admin", "admin-kommune")
CONTACT_EMAIL = "birthe@forening.example.dk"
# The referring personas' work e-mails (the volunteers log in with theirs).
EMAILS = {
    "professional": "mette.holm@jobcenter.example.dk",
    "professional-2": "jens.mortensen@sundhed.example.dk",
    "ambassador": "lars.bech@frivillig.example.dk",
    "ambassador-2": "sofie.dahl@frivillig.example.dk",
}
AREA = "vestervang"
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")
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
    analytics: ServedApp
    web: ServedApp
    loop: LoopThread
    web_loop: LoopThread
    tmp: Path
    stack: ServedApps  # the backing services, in `loop`
    web_stack: ServedApps  # the web clients, in `web_loop`
    mail: MailBox
    smtp_port: int
    knitting_id: str = ""
    full_id: str = ""
    extra_webs: list[ServedApp] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.web.base_url

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(work)

    def api(self, service: ServedApp, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """A guide's call to a backing service's API (from the test's thread); the answer's JSON."""
        headers = {"Authorization": f"Bearer {GUIDE_TOKEN}"}
        with httpx.Client(base_url=service.base_url, headers=headers, timeout=30, verify=tls()) as client:
            response = client.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def mail_to(self, address: str, subject: str = "", timeout: float = 20, count: int = 1) -> list[EmailMessage]:
        """The mails to `address` (whose subject contains `subject`), once `count` have come."""

        async def arrived() -> list[EmailMessage] | None:
            found = self.mail.to(address, subject or None)
            return found if len(found) >= count else None

        found: list[EmailMessage] = self.run(eventually(arrived, timeout=timeout))
        return found

    def web_settings(self, port: int, **overrides: Any) -> WebSettings:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{self.tmp / f'web-{port}.db'}",
            "port": port,
            "public_base_url": f"http://127.0.0.1:{port}",
            "web_public_url": f"http://127.0.0.1:{port}",
            "catalogue_url": self.catalogue.base_url,
            "referrals_url": self.referrals.base_url,
            "notifications_url": self.notifications.base_url,
            "analytics_url": self.analytics.base_url,
            "smtp_port": self.smtp_port,
            # The tests stand where a municipality's reverse proxy stands: their X-Forwarded-For
            # gives each HTTP test client its own address (shared/proxies.py).
            "trusted_proxies": "127.0.0.1",
            **overrides,
        }
        return WebSettings(**values)

    def another_web(self, **overrides: Any) -> ServedApp:
        """A second web client over the same services, with other settings (e.g. a short
        idle timeout); stopped with the system."""
        served = ServedApp(None)
        served.app = build_web(self.web_settings(served.port, **overrides))
        self.web_loop.run(self.web_stack.enter(served))
        return served


def _service_settings(name: str, nats_url: str, tmp: Path, web_url: str, smtp_port: int) -> Settings:
    return Settings(
        service=name,
        database_url=f"sqlite:///{tmp / (name + '.db')}",
        nats_url=nats_url,
        relay_interval_seconds=0.05,
        retry_backoff_seconds=[0.1],
        web_public_url=web_url,
        smtp_port=smtp_port,
    )


async def _start(
    system_tmp: Path, nats_url: str, loops: tuple[LoopThread, LoopThread], mail: MailBox, smtp_port: int
) -> WebSystem:
    """The backing services in `loops[0]` (this coroutine's), then the web in `loops[1]`."""
    stack = ServedApps()
    web = ServedApp(None)  # its port first: the web's public URL (OIDC redirect, mail links) names it
    served = {}
    for name, build in (
        ("catalogue", build_catalogue),
        ("referrals", build_referrals),
        ("notifications", build_notifications),
        ("analytics", build_analytics),
    ):
        settings = _service_settings(name, nats_url, system_tmp, web.base_url, smtp_port)
        if name == "notifications":  # timers and deliveries looked for often, so mail comes at once
            settings = build_notifications_settings(settings)
        served[name] = await stack.serve(build(settings))
    system = WebSystem(
        served["catalogue"],
        served["referrals"],
        served["notifications"],
        served["analytics"],
        web,
        *loops,
        system_tmp,
        stack,
        ServedApps(),
        mail,
        smtp_port,
    )
    web.app = build_web(system.web_settings(web.port, nats_url=nats_url))
    web_started = asyncio.run_coroutine_threadsafe(system.web_stack.enter(web), system.web_loop.loop)
    await asyncio.wrap_future(web_started)
    # The referring personas are known referrers with work e-mails, so they may refer (and the
    # volunteers log in by mail) from the start; the ambassadors accompany in the clubs' area.
    async with system.referrals.client(GUIDE_TOKEN) as client:
        for key, email in EMAILS.items():
            persona = BY_KEY[key]
            body: dict[str, Any] = {
                "actor_id": persona.actor_id,
                "role": str(persona.role),
                "name": persona.name,
                "contact": {"email": email},
            }
            if persona.role == "ambassador":
                body |= {"area": AREA, "offers_accompaniment": True}
            else:
                body["sector"] = "job_centre"
            response = await client.post("/v1/referrers", json=body)
            assert response.status_code in (201, 409), response.text
    await _seed_communities(system)
    return system


def build_notifications_settings(settings: Settings) -> Settings:
    from services.notifications.settings import NotificationSettings

    # No quiet hours and a high daily cap: the journeys wait for mail whenever CI runs (also at
    # night in Copenhagen), and the shared system's referrers get many mails in one run.
    return NotificationSettings.for_service(
        settings, tick_seconds=0.05, delivery_backoff_seconds=[0.5], quiet_start="", quiet_end="", daily_cap=100
    )


def _community(organization_id: str, name: str, description: str, available: int, status: str) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "name": name,
        "description": description,
        "categories": ["creative", "social"],
        "accepts_special_needs": True,
        "contact": {"name": "Birthe Holm", "email": CONTACT_EMAIL, "phone": "+45 12 34 56 78"},
        "location": {"area": AREA, "address": "Skolevej 1", "postal_code": "4100"},
        "schedules": [{"weekday": "tue", "opens_at": "17:00", "closes_at": "19:00"}],
        "capacity": {"total": 12, "available": available, "status": status},
    }


async def _seed_communities(system: WebSystem) -> None:
    async with system.catalogue.client(ADMIN_TOKEN) as client:
        org = (await client.post("/v1/organizations", json={"name": "Strikkeforeningen"})).json()
        made = []
        for name, description, available, status in (
            ("Strikkeklubben Vestervang", "Vi strikker og drikker kaffe.", 8, "open"),
            ("Hæklecaféen", "Hækling og strik for begyndere.", 0, "full"),
        ):
            response = await client.post(
                "/v1/communities", json=_community(org["id"], name, description, available, status)
            )
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
    system.knitting_id, system.full_id = made

    async def known_to_referrals() -> bool:
        async with system.referrals.client(GUIDE_TOKEN) as client:
            listed = (await client.get("/v1/communities")).json()
        return set(made) <= {item["community_id"] for item in listed}

    await eventually(known_to_referrals, timeout=20)


@pytest.fixture(scope="package")
def web_system(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSystem]:
    from tests.conftest import _purge_streams

    loop, web_loop = LoopThread(), LoopThread()
    loop.run(_purge_streams(nats_url))
    mail, smtp_port = MailBox(), free_port()
    smtp = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    system = loop.run(_start(tmp_path_factory.mktemp("web-system"), nats_url, (loop, web_loop), mail, smtp_port))
    try:
        yield system
    finally:
        # The web clients and the services stop at once, each in its own loop.
        stopping = [
            asyncio.run_coroutine_threadsafe(system.web_stack.__aexit__(None, None, None), web_loop.loop),
            asyncio.run_coroutine_threadsafe(system.stack.__aexit__(None, None, None), loop.loop),
        ]
        for stopped in stopping:
            stopped.result(120)
        loop.run(_purge_streams(nats_url))
        web_loop.close()
        loop.close()
        smtp.stop()


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


def login_as(page: Any, persona: str, next_path: str = "/", *, fresh: bool = False) -> None:
    """Log in as one of the development IdP's personas (guide, professional, professional-2,
    ambassador, ambassador-2, community_contact, analyst, admin, dpo) through its picker.

    A persona logs in through the picker once per web client: later calls give the page that
    login's session cookie and open `next_path` (what a browser that stayed logged in does).
    `fresh` always goes through the picker (the tests of logging in, and of logging out)."""
    from urllib.parse import quote

    if not fresh and _resume(page, persona, next_path):
        return
    page.goto(f"/login?next={quote(next_path)}")
    page.get_by_role("link", name="Log ind").click()
    page.wait_for_url("**/dev-idp/authorize**")
    page.get_by_role("button", name=BY_KEY[persona].name).click()
    page.wait_for_url(lambda url: "/dev-idp/" not in url and "/login" not in url)
    _keep(page, persona)


# The session cookie each login got, by (web origin, persona or volunteer's e-mail), and the
# path it landed on: a login through the browser takes seconds, and most tests are about what
# comes after it.
SESSIONS: dict[tuple[str, str], tuple[list[Any], str]] = {}


def _keep(page: Any, who: str) -> None:
    cookies = [cookie for cookie in page.context.cookies() if cookie["name"] == SESSION_COOKIE]
    url = urlsplit(page.url)
    SESSIONS[(ORIGINS[id(page)], who)] = (cookies, url.path + (f"?{url.query}" if url.query else ""))


def _resume(page: Any, who: str, path: str | None = None) -> bool:
    """Open `path` (else where the login landed) with `who`'s kept session; False when there is
    none, or it has ended (the page is then as before, without cookies)."""
    key = (ORIGINS[id(page)], who)
    if key not in SESSIONS:
        return False
    cookies, landed = SESSIONS[key]
    page.context.add_cookies(cookies)
    page.goto(path or landed)
    if urlsplit(page.url).path.startswith("/login"):
        page.context.clear_cookies()
        del SESSIONS[key]
        return False
    return True


def links_in(message: EmailMessage) -> list[str]:
    """The addresses in a mail's plain-text part, in order."""
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    return [url.rstrip(".,)") for url in URL_PATTERN.findall(text)]


def login_by_mail(page: Any, web_system: WebSystem, email: str, *, fresh: bool = False) -> None:
    """Log in as a volunteer: ask for a login link on /login, read it from the SMTP server,
    open it and press "Log ind" (works with JavaScript off too). As `login_as`: once per web
    client unless `fresh`, later calls open the page the login landed on with its session."""
    if not fresh and _resume(page, email):
        return
    before = len(web_system.mail.to(email, LOGIN_MAIL_SUBJECT))
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Send mig et login-link").click()
    mail = web_system.mail_to(email, LOGIN_MAIL_SUBJECT, count=before + 1)[-1]
    link = next(url for url in links_in(mail) if "/login/mail/" in url)
    page.goto(link)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/login" not in url)
    _keep(page, email)


LOGIN_MAIL_SUBJECT = "Dit login-link til Vejviser"


@contextmanager
def http_login(web_system: WebSystem, persona: str, base_url: str | None = None) -> Iterator[httpx.Client]:
    """An httpx client (cookies kept, redirects followed) logged in through the development
    IdP's persona picker the way a browser without JavaScript does it (to `base_url`, e.g.
    `another_web()`'s, else the system's web); once per persona and web client, as `login_as`."""
    base = base_url or web_system.url
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30, verify=tls()) as client:
        if (base, persona) in SESSIONS:  # logged in before (a browser's login counts too)
            for cookie in SESSIONS[(base, persona)][0]:
                client.cookies.set(cookie["name"], cookie["value"])
            if client.get("/login", follow_redirects=False).status_code == 303:  # still logged in
                yield client
                return
            client.cookies.clear()
        picker = client.get("/login/start", params={"next": "/"})
        assert picker.status_code == 200 and "/dev-idp/authorize" in str(picker.url), picker.text[:500]
        hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', picker.text)
        form = {name: html.unescape(value) for name, value in hidden} | {"persona": persona}
        done = client.post("/dev-idp/authorize", data=form)
        assert done.status_code == 200 and "vejviser_session" in client.cookies, done.text[:500]
        cookie = {"name": SESSION_COOKIE, "value": client.cookies[SESSION_COOKIE], "url": base}
        SESSIONS[(base, persona)] = ([cookie], "/")
        yield client


def axe_check(page: Any, state: str = "") -> None:
    """No serious or critical WCAG 2.0/2.1 A or AA violation in the page as it is now.

    axe needs JavaScript (it never finishes on a page with scripts off), so a page without
    JavaScript is checked through a mirror: the same HTML, scripts removed, served at the same
    address to a script-enabled page (its CSS and images load from the web as usual)."""
    target = _mirror(page) if id(page) in WITHOUT_JS else page
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    if not target.evaluate("() => typeof window.axe === 'object'"):  # not yet in this document
        target.evaluate(_axe().axe_script)
    results = target.evaluate("options => axe.run(document, options)", options)
    serious = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in serious
    )
    assert not serious, f"axe found serious/critical violations on {state or page.url}:\n{report}"


@dataclass
class _Mirrored:
    """The script-enabled page the mirror is shown in (one per browser: its CSS stays cached),
    and what it serves at `address`."""

    page: Any
    address: str = ""
    html: str = ""


MIRRORS: dict[int, _Mirrored] = {}


def _mirror(page: Any) -> Any:
    """`page`'s HTML without its scripts, at its address, in the browser's mirror page."""
    browser = page.context.browser
    mirrored = MIRRORS.get(id(browser))
    if mirrored is None or mirrored.page.context.browser is not browser or mirrored.page.is_closed():
        context = browser.new_context()
        # axe comes with every document the mirror shows (it shows nothing else), instead of
        # being sent over the wire again after each goto (570 KB, a tenth of a second a check).
        context.add_init_script(script=_axe().axe_script)
        mirrored = MIRRORS[id(browser)] = _Mirrored(context.new_page())
        kept = mirrored
        kept.page.route(
            lambda url: url == kept.address,
            lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=kept.html),
        )
    mirrored.html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.IGNORECASE | re.DOTALL)
    mirrored.address = page.url
    mirrored.page.set_viewport_size(page.viewport_size)
    mirrored.page.goto(mirrored.address)
    return mirrored.page


@functools.cache
def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


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


__all__ = [
    "WebSystem",
    "axe_check",
    "csp_violations",
    "http_login",
    "links_in",
    "login_as",
    "login_by_mail",
    "no_foreign_requests",
    "screenshot",
]
