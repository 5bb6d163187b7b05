"""The demo world: three generations and more, every status, back-dated, no citizen data in events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.referrals.crypto import vault_from_settings
from services.referrals.demo import seed
from services.referrals.domain import Status
from services.referrals.service import ReferralsService
from services.referrals.service.citizens import open_attributes
from services.referrals.service.communities import on_registered
from services.referrals.tables import Base, Citizen, Community, Referral, Referrer
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.events import Envelope
from shared.events.catalogue import CommunityRegistered
from shared.principal import Principal, Role
from shared.profile import profile
from shared.runtime import Runtime
from shared.uow import UnitOfWork
from tests.helpers import eventually
from tests.integration.referrals.support import GUIDE, settings

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
# The catalogue demo's communities live in these profile areas (services/catalogue/demo.py).
AREAS = ("ringsted_midtby", "ringsted_syd", "benloese", "jystrup", "vetterslev", "kvaerkeby", "haraldsted")
WELCOMED = {Status.welcomed, Status.participating, Status.ended}


def service(database_url: str) -> ReferralsService:
    config = settings(database_url, "nats://127.0.0.1:1")
    runtime = Runtime(config, Base.metadata)
    runtime.db.create_schema(Base.metadata)
    return ReferralsService(runtime, config, vault_from_settings(config))


def register_communities(svc: ReferralsService) -> None:
    ids = [DEMO_CONTACT_COMMUNITY_ID] + [f"demo-community-{n:02d}" for n in range(2, 13)]

    def work(uow: UnitOfWork) -> None:
        for n, community_id in enumerate(ids):
            event = CommunityRegistered(
                community_id=community_id,
                organization_id="org",
                name=f"Fællesskab {n}",
                categories=["social", "creative"] if n % 2 else ["sport"],
                area=AREAS[n % len(AREAS)],
                kind="practice_track" if n == 5 else "permanent",
                accepts_special_needs=True,
            )
            time = NOW - timedelta(days=400)
            on_registered(uow.session, Envelope.wrap(event, source="/services/catalogue", time=time), event)

    svc.runtime.write(work)


def generation(actor_id: str, parents: dict[str, str | None]) -> int:
    parent = parents[actor_id]
    return 0 if parent is None else generation(parent, parents) + 1


def test_the_demo_world(sqlite_url: str) -> None:
    svc = service(sqlite_url)
    try:
        register_communities(svc)
        counts = seed(svc, now=NOW)
        assert seed(svc, now=NOW) == {}  # only into an empty database
        with svc.runtime.db.transaction() as session:
            referrers = {r.actor_id: r for r in session.scalars(select(Referrer))}
            referrals = list(session.scalars(select(Referral)))
            citizens = list(session.scalars(select(Citizen)))
            payloads = [row.payload for row in session.execute(select(svc.runtime.outbox.table.c.payload))]
            keys = svc.vault.keys_of(c.citizen_ref for c in citizens)
            contacts = [
                keys[c.citizen_ref].open_contact(c.contact_ciphertext) for c in citizens if c.contact_ciphertext
            ]
    finally:
        svc.runtime.db.dispose()
        svc.vault.close()

    parents = {a: r.activated_by for a, r in referrers.items()}
    generations = {a: generation(a, parents) for a in referrers}
    assert {a for a, r in referrers.items() if r.role == "guide"} >= {DEMO_ACTORS["guide"], "guide-bo", "guide-fatima"}
    assert generations[DEMO_ACTORS["professional"]] == 1 and generations[DEMO_ACTORS["ambassador"]] == 1
    assert max(generations.values()) >= 3
    assert any(r.activated_by and referrers[r.activated_by].role == "ambassador" for r in referrers.values())
    former = [r for r in referrers.values() if r.citizen_ref]
    assert len(former) == 1 and former[0].role == "ambassador"

    assert {Status(r.status) for r in referrals} == set(Status)
    assert len(citizens) >= 40 and all(c.attributes_ciphertext and c.consent_purpose_ciphertext for c in citizens)
    assert len(contacts) == len(citizens)
    assert sum(r.community_id == DEMO_CONTACT_COMMUNITY_ID for r in referrals) >= 3
    assert min(r.created_at for r in referrals) < NOW - timedelta(days=150)
    assert all(r.updated_at <= NOW for r in referrals)
    assert counts["CitizenBridged"] >= 1 and counts["OutreachRecorded"] >= 5
    assert counts["TrainingRecorded"] >= 5  # trainings move the demo referrers to trained
    assert all(r.readiness for r in referrers.values() if r.role != "guide")
    assert all(r.contact_email and r.contact_email.endswith("@ringsted.example.dk") for r in referrers.values())

    outbox = b"\n".join(payloads).decode()
    for contact in contacts:
        for value in contact.values():
            assert value and value not in outbox
    times = [json.loads(p)["time"] for p in payloads]
    assert min(times) < (NOW - timedelta(days=180)).isoformat()  # back-dated event times


def test_the_demo_story_crosses_areas_for_a_minority_and_finds_ambassadors_nearby(sqlite_url: str) -> None:
    svc = service(sqlite_url)
    try:
        register_communities(svc)
        seed(svc, now=NOW)
        with svc.runtime.db.transaction() as session:
            area_of = {c.community_id: c.area for c in session.scalars(select(Community))}
            citizens = list(session.scalars(select(Citizen)))
            referrals = list(session.scalars(select(Referral)))
            referrers = list(session.scalars(select(Referrer)))
        keys = svc.vault.keys_of(c.citizen_ref for c in citizens)
        opened = {c.citizen_ref: open_attributes(c, keys.get(c.citizen_ref)) for c in citizens}
        home_of = {ref: found.area if found else None for ref, found in opened.items()}
        # As analytics counts it: welcomed referrals whose citizen lives outside the community's area.
        welcomed = [r for r in referrals if Status(r.status) in WELCOMED]
        crossing = [r for r in welcomed if home_of[r.citizen_ref] != area_of[r.community_id]]
        assert all(home_of[r.citizen_ref] and area_of[r.community_id] for r in welcomed)
        share = len(crossing) / len(welcomed)
        assert 0 < share < 1 and 0.1 <= share <= 0.45, share
        assert {c.area for c in referrers} <= set(profile().area.codes)

        guide = Principal(DEMO_ACTORS["guide"], Role.guide)
        ranked = [svc.referrals.companions(guide, r.referral_id, limit=1) for r in referrals]
        nearby = [top[0] for top in ranked if top and any(s.startswith("same area") for s in top[0].ranked.reasons)]
        assert any(c.referrer.role == "ambassador" for c in nearby)
    finally:
        svc.runtime.db.dispose()
        svc.vault.close()


async def test_demo_seeding_waits_for_communities_without_blocking_readiness(sqlite_url: str, nats_clean: str) -> None:
    from services.referrals.main import build
    from tests.helpers import ServedApp, publish
    from tests.integration.referrals.support import community

    app = build(settings(sqlite_url, nats_clean, demo=True, demo_min_communities=3, demo_wait_seconds=20))
    async with ServedApp(app) as served, served.client(GUIDE) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/v1/referrals")).json() == []
        await publish(nats_clean, *(community(f"c{n}", f"Fællesskab {n}", area=AREAS[n]) for n in range(3)))

        async def seeded() -> list[dict[str, object]]:
            return (await client.get("/v1/referrals", params={"limit": 1000})).json()  # type: ignore[no-any-return]

        referrals = await eventually(seeded, timeout=20, interval=0.2)
        assert {r["status"] for r in referrals} == {s.value for s in Status}
