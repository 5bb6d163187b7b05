"""A running referrals service over real HTTP, NATS and a real database, plus the world a
test needs: a few communities (published as the catalogue would) and the cascade's actors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from services.referrals.main import build
from services.referrals.service import ReferralsService
from services.referrals.settings import ReferralsSettings
from shared.db import scratch_database
from shared.events import Envelope, Event
from shared.events.catalogue import CommunityRegistered
from tests.helpers import ServedApp, eventually, publish, stream_events, token

GUIDE = token("guide", "guide-anne")
ADMIN = token("admin", "admin-ringsted")
PROF = token("professional", "prof-mette")
OTHER_PROF = token("professional", "prof-other")
AMB = token("ambassador", "amb-lars")
AMB_SOFIE = token("ambassador", "amb-sofie")  # offers accompaniment in vestervang too (`volunteers`)
AMB_FAR = token("ambassador", "amb-far")  # offers accompaniment, but in ringsted_midtby
AMB_HOME = token("ambassador", "amb-home")  # does not offer accompaniment
CONTACT = token("community_contact", "contact-strik", ["strik"])
OTHER_CONTACT = token("community_contact", "contact-kor", ["kor"])
ANALYST = token("analyst", "analyst-vive")
SYSTEM = token("municipal_system", "system-jobcenter")

CITIZEN_CONTACT = {"name": "Birthe Testesen", "phone": "+45 87 65 43 21", "email": "birthe.testesen@example.dk"}


def catalogue(event: Event, time: datetime | None = None) -> Envelope:
    return Envelope.wrap(event, source="/services/catalogue", time=time)


def community(community_id: str, name: str, **kw: Any) -> Envelope:
    fields: dict[str, Any] = {
        "organization_id": "org-1",
        "categories": ["crafts", "social"],
        "area": "vestervang",
        "kind": "permanent",
        "accepts_special_needs": True,
        **kw,
    }
    return catalogue(CommunityRegistered(community_id=community_id, name=name, **fields))


@dataclass
class Svc:
    served: ServedApp
    nats_url: str

    @property
    def service(self) -> ReferralsService:
        service: ReferralsService = self.served.app.state.referrals
        return service

    def client(self, tok: str) -> httpx.AsyncClient:
        return self.served.client(tok)  # type: ignore[no-any-return]

    async def call(self, tok: str, method: str, path: str, **kw: Any) -> httpx.Response:
        async with self.client(tok) as c:
            return await c.request(method, path, **kw)

    async def ok(self, tok: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = await self.call(tok, method, path, **kw)
        assert response.status_code == status, response.text
        return response.json()

    async def citizen(self, tok: str = PROF, contact: dict[str, str] | None = None, **kw: Any) -> str:
        body = {"contact": contact or CITIZEN_CONTACT, **kw}
        return str((await self.ok(tok, "POST", "/v1/citizens", 201, json=body))["citizen_ref"])

    async def referral(self, tok: str = PROF, community_id: str = "strik", **kw: Any) -> dict[str, Any]:
        ref = kw.pop("citizen_ref", None) or await self.citizen(tok)
        body = {"citizen_ref": ref, "community_id": community_id, **kw}
        return await self.ok(tok, "POST", "/v1/referrals", 201, json=body)  # type: ignore[no-any-return]

    async def events(self, context: str = "referrals") -> list[Envelope]:
        return await stream_events(self.nats_url, context)

    async def wait_events(self, count: int, *, type_suffix: str = "", subject: str | None = None) -> list[Envelope]:
        async def enough() -> list[Envelope] | None:
            found = [
                e
                for e in await self.events()
                if e.type.endswith(type_suffix) and (subject is None or e.subject == subject)
            ]
            return found if len(found) >= count else None

        return await eventually(enough, timeout=15)  # type: ignore[no-any-return]


async def volunteers(svc: Svc) -> None:
    """More ambassadors for accompaniment: amb-sofie (vestervang), amb-far (another area),
    amb-home (does not go along)."""
    for actor_id, area, offers in (
        ("amb-sofie", "vestervang", True),
        ("amb-far", "ringsted_midtby", True),
        ("amb-home", "vestervang", False),
    ):
        body = {"actor_id": actor_id, "role": "ambassador", "area": area, "offers_accompaniment": offers}
        await svc.ok(GUIDE, "POST", "/v1/referrers", 201, json=body)


@contextmanager
def second_database(database_url: str, suffix: str = "keys") -> Iterator[str]:
    """Another database beside `database_url`: on PostgreSQL a new one on the same server
    (dropped afterwards), on SQLite a file next to it."""
    if database_url.startswith("sqlite"):
        yield database_url.removesuffix(".db") + f"-{suffix}.db"
        return
    with scratch_database(database_url, f"{database_url.rpartition('/')[2]}_{suffix}") as url:
        yield url


def settings(database_url: str, nats_url: str, **kw: Any) -> ReferralsSettings:
    return ReferralsSettings(
        database_url=database_url,
        nats_url=nats_url,
        relay_interval_seconds=0.05,
        retry_backoff_seconds=[0.1],
        **kw,
    )


@asynccontextmanager
async def serving(database_url: str, nats_url: str, **kw: Any) -> AsyncIterator[Svc]:
    """The service on that database as it is (nothing added)."""
    async with ServedApp(build(settings(database_url, nats_url, **kw))) as served:
        yield Svc(served, nats_url)


@asynccontextmanager
async def running(database_url: str, nats_url: str, *extra: Envelope, **kw: Any) -> AsyncIterator[Svc]:
    """The service with communities `strik` (open), `kor`, a practice track, and the actors
    guide-anne → prof-mette, guide-anne → amb-lars (offers accompaniment). Its key store has
    a database of its own (on PostgreSQL a second one) unless `key_store_url` is given."""
    with ExitStack() as stack:
        if "key_store_url" not in kw:
            kw["key_store_url"] = stack.enter_context(second_database(database_url))
        async with serving(database_url, nats_url, **kw) as svc:
            await _world(svc, nats_url, *extra)
            yield svc


async def _world(svc: Svc, nats_url: str, *extra: Envelope) -> None:
    envelopes = [
        community("strik", "Strikkeklubben i Vestervang"),
        community("kor", "Ringsted Kor", categories=["music"], area="ringsted_midtby"),
        community("spis", "Fællesspisning (øvebane)", kind="practice_track", categories=["food", "social"]),
        *extra,
    ]
    await publish(nats_url, *envelopes)
    wanted = {e.subject for e in envelopes if e.type.endswith("CommunityRegistered.v1")}

    async def known() -> bool:
        found = await svc.ok(ADMIN, "GET", "/v1/communities", params={"include_archived": True})
        return wanted <= {c["community_id"] for c in found}

    await eventually(known, timeout=15)
    await svc.ok(ADMIN, "POST", "/v1/referrers", 201, json={"actor_id": "guide-anne", "role": "guide"})
    await svc.ok(
        GUIDE,
        "POST",
        "/v1/referrers",
        201,
        json={"actor_id": "prof-mette", "role": "professional", "sector": "job_centre", "area": "ringsted_midtby"},
    )
    await svc.ok(
        GUIDE,
        "POST",
        "/v1/referrers",
        201,
        json={
            "actor_id": "amb-lars",
            "role": "ambassador",
            "area": "vestervang",
            "languages": ["da", "ar"],
            "offers_accompaniment": True,
        },
    )
    await svc.ok(
        GUIDE, "POST", "/v1/referrers", 201, json={"actor_id": "prof-other", "role": "professional", "sector": "gp"}
    )
