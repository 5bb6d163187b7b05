"""The demo world: three generations and more, every status, back-dated, no citizen data in events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.referrals.api import Context
from services.referrals.consumers import on_registered
from services.referrals.crypto import CitizenVault, master_key_from_setting
from services.referrals.demo import seed
from services.referrals.domain import Status
from services.referrals.handlers import Applier
from services.referrals.store import Base, Citizen, Referral, Referrer
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.events import Envelope
from shared.events.catalogue import CommunityRegistered
from shared.runtime import Runtime
from shared.settings import DEV_TOKEN_SECRET
from tests.helpers import eventually
from tests.integration.referrals.support import GUIDE, settings

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def context(database_url: str) -> Context:
    runtime = Runtime(settings(database_url, "nats://127.0.0.1:1"), Base.metadata)
    runtime.db.create_schema(Base.metadata)
    vault = CitizenVault(master_key_from_setting("", DEV_TOKEN_SECRET))
    return Context(runtime=runtime, applier=Applier(vault), vault=vault, settings=runtime.settings)  # type: ignore[arg-type]


def register_communities(ctx: Context) -> None:
    ids = [DEMO_CONTACT_COMMUNITY_ID] + [f"demo-community-{n:02d}" for n in range(2, 13)]
    with ctx.runtime.db.transaction() as session:
        for n, community_id in enumerate(ids):
            event = CommunityRegistered(
                community_id=community_id,
                organization_id="org",
                name=f"Fællesskab {n}",
                categories=["social", "crafts"] if n % 2 else ["sport"],
                area="Vestervang",
                kind="practice_track" if n == 5 else "permanent",
                accepts_special_needs=True,
            )
            on_registered(
                session, Envelope.wrap(event, source="/services/catalogue", time=NOW - timedelta(days=400)), event
            )


def generation(actor_id: str, parents: dict[str, str | None]) -> int:
    parent = parents[actor_id]
    return 0 if parent is None else generation(parent, parents) + 1


def test_the_demo_world(sqlite_url: str) -> None:
    ctx = context(sqlite_url)
    try:
        register_communities(ctx)
        counts = seed(ctx, now=NOW)
        assert seed(ctx, now=NOW) == {}  # only into an empty database
        with ctx.runtime.db.transaction() as session:
            referrers = {r.actor_id: r for r in session.scalars(select(Referrer))}
            referrals = list(session.scalars(select(Referral)))
            citizens = list(session.scalars(select(Citizen)))
            payloads = [row.payload for row in session.execute(select(ctx.runtime.outbox.table.c.payload))]
            contacts = [
                ctx.vault.open(c.citizen_ref, c.wrapped_key, c.contact_ciphertext)
                for c in citizens
                if c.contact_ciphertext
            ]
    finally:
        ctx.runtime.db.dispose()

    parents = {a: r.activated_by for a, r in referrers.items()}
    generations = {a: generation(a, parents) for a in referrers}
    assert {a for a, r in referrers.items() if r.role == "guide"} >= {DEMO_ACTORS["guide"], "guide-bo", "guide-fatima"}
    assert generations[DEMO_ACTORS["professional"]] == 1 and generations[DEMO_ACTORS["ambassador"]] == 1
    assert max(generations.values()) >= 3
    assert any(r.activated_by and referrers[r.activated_by].role == "ambassador" for r in referrers.values())
    former = [r for r in referrers.values() if r.citizen_ref]
    assert len(former) == 1 and former[0].role == "ambassador"

    assert {Status(r.status) for r in referrals} == set(Status)
    assert len(citizens) >= 40 and all(c.consent_purpose for c in citizens)
    assert sum(r.community_id == DEMO_CONTACT_COMMUNITY_ID for r in referrals) >= 3
    assert min(r.created_at for r in referrals) < NOW - timedelta(days=150)
    assert all(r.updated_at <= NOW for r in referrals)
    assert counts["CitizenBridged"] >= 1 and counts["OutreachRecorded"] >= 5
    assert all(r.contact_email and r.contact_email.endswith("@ringsted.example.dk") for r in referrers.values())

    outbox = b"\n".join(payloads).decode()
    for contact in contacts:
        for value in contact.values():
            assert value and value not in outbox
    times = [json.loads(p)["time"] for p in payloads]
    assert min(times) < (NOW - timedelta(days=180)).isoformat()  # back-dated event times


async def test_demo_seeding_waits_for_communities_without_blocking_readiness(sqlite_url: str, nats_clean: str) -> None:
    from services.referrals.main import build
    from tests.helpers import ServedApp, publish
    from tests.integration.referrals.support import community

    app = build(settings(sqlite_url, nats_clean, demo=True, demo_min_communities=3, demo_wait_seconds=20))
    async with ServedApp(app) as served, served.client(GUIDE) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/v1/referrals")).json() == []
        await publish(nats_clean, *(community(f"c{n}", f"Fællesskab {n}") for n in range(3)))

        async def seeded() -> list[dict[str, object]]:
            return (await client.get("/v1/referrals", params={"limit": 1000})).json()  # type: ignore[no-any-return]

        referrals = await eventually(seeded, timeout=20, interval=0.2)
        assert {r["status"] for r in referrals} == {s.value for s in Status}
