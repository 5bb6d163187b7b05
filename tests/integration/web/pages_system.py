"""The running system the pages' tests drive: catalogue, referrals and the web client on a
test NATS and SQLite, with a knitting club and a professional who may refer.

(Interim until W1's conftest fixture: the web's session is opened directly; the browser
journeys log in through the development identity provider.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.catalogue.main import build as build_catalogue
from services.referrals.main import build as build_referrals
from services.web.domain import WebUser
from services.web.main import build as build_web
from services.web.settings import WebSettings
from shared.principal import Role
from shared.settings import Settings
from tests.helpers import ServedApp, eventually, token

ADMIN = token("admin", "admin-kommune")
GUIDE = token("guide", "guide-anne")
PROFESSIONAL = "prof-jobcenter-mette"
OTHER_PROFESSIONAL = "prof-sundhed-jens"


@dataclass
class System:
    catalogue: ServedApp
    referrals: ServedApp
    web: ServedApp
    knitting_id: str
    full_id: str

    def session_cookie(self, user: WebUser) -> dict[str, str]:
        cookie, _ = self.web.app.state.sessions.open(user)
        return {"vejviser_session": cookie}


async def call(app: ServedApp, tok: str, method: str, path: str, status: int, **kw: Any) -> Any:
    async with app.client(tok) as client:
        response = await client.request(method, path, **kw)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def community(organization_id: str, name: str, description: str, available: int, status: str) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "name": name,
        "description": description,
        "categories": ["creative", "social"],
        "accepts_special_needs": True,
        "contact": {"name": "Birthe Holm", "email": "birthe@forening.example.dk", "phone": "+45 12 34 56 78"},
        "location": {"area": "vestervang", "address": "Skolevej 1", "postal_code": "4100"},
        "schedules": [{"weekday": "tue", "opens_at": "17:00", "closes_at": "19:00"}],
        "capacity": {"total": 12, "available": available, "status": status},
    }


@asynccontextmanager
async def running_system(nats_url: str, tmp_path: Path) -> AsyncIterator[System]:
    def settings(name: str) -> Settings:
        return Settings(
            service=name,
            database_url=f"sqlite:///{tmp_path / (name + '.db')}",
            nats_url=nats_url,
            relay_interval_seconds=0.05,
            retry_backoff_seconds=[0.1],
        )

    async with AsyncExitStack() as stack:
        catalogue = await stack.enter_async_context(ServedApp(build_catalogue(settings("catalogue"))))
        referrals = await stack.enter_async_context(ServedApp(build_referrals(settings("referrals"))))
        web_port_app = ServedApp(None)
        web_settings = WebSettings(
            database_url=f"sqlite:///{tmp_path / 'web.db'}",
            nats_url=nats_url,
            port=web_port_app.port,
            public_base_url=web_port_app.base_url,
            catalogue_url=catalogue.base_url,
            referrals_url=referrals.base_url,
        )
        web_port_app.app = build_web(web_settings)
        web = await stack.enter_async_context(web_port_app)

        org = await call(catalogue, ADMIN, "POST", "/v1/organizations", 201, json={"name": "Strikkeforeningen"})
        knitting = await call(
            catalogue,
            ADMIN,
            "POST",
            "/v1/communities",
            201,
            json=community(org["id"], "Strikkeklubben Vestervang", "Vi strikker og drikker kaffe.", 8, "open"),
        )
        full = await call(
            catalogue,
            ADMIN,
            "POST",
            "/v1/communities",
            201,
            json=community(org["id"], "Hæklecaféen", "Hækling og strik for begyndere.", 0, "full"),
        )
        for actor in (PROFESSIONAL, OTHER_PROFESSIONAL):
            body = {"actor_id": actor, "role": "professional", "sector": "job_centre", "name": actor}
            await call(referrals, GUIDE, "POST", "/v1/referrers", 201, json=body)

        async def known() -> bool:
            listed = await call(referrals, GUIDE, "GET", "/v1/communities", 200)
            return {knitting["id"], full["id"]} <= {item["community_id"] for item in listed}

        await eventually(known, timeout=20)
        yield System(catalogue, referrals, web, knitting["id"], full["id"])


def professional(actor_id: str = PROFESSIONAL) -> WebUser:
    return WebUser(actor_id, Role.professional, "Mette Jensen")
