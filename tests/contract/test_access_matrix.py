"""The access matrix (vejviser/access_matrix.py) walked cell by cell against the running
services: every endpoint of every service, called without a token and with each role's token
(the web: without a session and with each role's session), with a minimal request (made-up
ids, an empty body). 0 cells may differ from the table; docs/security.md shows it current."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

from services.web.domain import WebUser
from services.web.main import build as build_web
from services.web.settings import WebSettings
from shared.principal import Role
from tests.contract.test_fuzz import API_SERVICES, build
from tests.helpers import ServedApp, ServedApps, tls, token
from vejviser.access_matrix import CALLERS, END, START, Answer, Endpoint, endpoints, render_access_matrix

SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "security.md"
PROBE_ID = "matrix-probe-0000000000000"  # long enough for any path's minimum length


def answered(endpoint: Endpoint, response: httpx.Response) -> Answer:
    """The class of answer a response is."""
    if response.status_code == 403:
        return Answer.forbidden
    if response.status_code == 401:
        return Answer.anonymous
    to_login = response.status_code == 303 and response.headers.get("location", "").startswith("/login")
    if endpoint.authentication == "session" and to_login:
        return Answer.anonymous
    return Answer.public if endpoint.authentication == "none" else Answer.allowed


class Callers:
    """A way in for each caller: a bearer token for the APIs, a session for the web."""

    def __init__(self, web: ServedApp) -> None:
        # A community contact receives for the community the probe names: "its own".
        communities = {Role.community_contact: [PROBE_ID]}
        self.tokens = {role: token(role.value, f"matrix-{role.value}", communities.get(role)) for role in Role}
        self.sessions: dict[Role, tuple[str, str]] = {}
        for role in Role:
            user = WebUser(actor_id=f"matrix-{role.value}", role=role, communities=tuple(communities.get(role, ())))
            cookie, session = web.app.state.sessions.open(user)
            self.sessions[role] = (cookie, session.csrf_token)

    def request(self, endpoint: Endpoint, caller: Role | None) -> dict[str, Any]:
        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        if endpoint.authentication == "session":
            if caller is not None:
                cookie, csrf = self.sessions[caller]
                headers["Cookie"] = f"vejviser_session={cookie}"
                headers["HX-CSRF-Token"] = csrf
                if endpoint.method == "POST":
                    extra["data"] = {"csrf_token": csrf}
        else:
            if caller is not None:
                headers["Authorization"] = f"Bearer {self.tokens[caller]}"
            if endpoint.method in ("POST", "PUT", "PATCH"):
                extra["json"] = {}
        url = re.sub(r"\{[^}]+\}", PROBE_ID, endpoint.path)
        return {"method": endpoint.method, "url": url, "headers": headers, **extra}


async def walk(served: dict[str, ServedApp], callers: Callers) -> tuple[int, list[str]]:
    """Call every cell, a few at a time; the number walked and the cells that differ."""
    documents = {name: app.app.openapi() for name, app in served.items()}
    cells = [(endpoint, caller) for endpoint in endpoints(documents) for caller in CALLERS]
    clients = {name: httpx.AsyncClient(base_url=app.base_url, timeout=60, verify=tls()) for name, app in served.items()}
    at_once = asyncio.Semaphore(6)

    async def call(endpoint: Endpoint, caller: Role | None) -> str | None:
        async with at_once:
            response = await clients[endpoint.service].request(**callers.request(endpoint, caller))
        expected, got = endpoint.expected(caller), answered(endpoint, response)
        if got == expected:
            return None
        who = caller.value if caller else "anonymous"
        return (
            f"{endpoint.service} {endpoint.method} {endpoint.path} as {who}: expected {expected}, "
            f"got {response.status_code} {response.text[:160]!r}"
        )

    try:
        found = await asyncio.gather(*(call(endpoint, caller) for endpoint, caller in cells))
    finally:
        for client in clients.values():
            await client.aclose()
    return len(cells), [cell for cell in found if cell is not None]


async def test_every_cell_of_the_access_matrix_answers_as_the_table_says(tmp_path: Path, nats_clean: str) -> None:
    async with ServedApps() as apps:
        served: dict[str, ServedApp] = {}
        for name in API_SERVICES:
            app = build(name, f"sqlite:///{tmp_path / f'{name}.db'}", nats_clean)
            served[name] = await apps.serve(app)
        web_settings = WebSettings.model_validate(
            {"database_url": f"sqlite:///{tmp_path / 'web.db'}"}
            | {f"{name}_url": served[name].base_url for name in API_SERVICES}
        )
        served["web"] = await apps.serve(build_web(web_settings))
        walked, differ = await walk(served, Callers(served["web"]))
    print(f"access matrix: {walked} cells walked, {len(differ)} differ from the table")
    assert walked >= 100 * len(CALLERS)
    assert differ == [], "\n".join(differ)


def test_docs_security_md_shows_the_current_access_matrix() -> None:
    text = SECURITY_MD.read_text()
    section = text[text.index(START) + len(START) : text.index(END)].strip()
    assert section == render_access_matrix().strip(), "docs/security.md is stale: run `make docs`"
