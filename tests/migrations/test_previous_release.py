"""The issue's test: a database the previous release made, with its demo data in it, is
migrated when the service starts, and the service works on it: the old data reads back through
its API, and something new is written (and, where the service is on the bus, published).

On SQLite the previous release's own file (tests/fixtures/previous-release/, made by
make_previous_release.py); on PostgreSQL the schema `<service>_0001` with the same rows."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from services.catalogue.main import build as build_catalogue
from services.notifications.main import build as build_notifications
from services.notifications.settings import NotificationSettings
from services.referrals.main import build as build_referrals
from services.referrals.settings import ReferralsSettings
from services.web.main import build as build_web
from services.web.settings import WebSettings
from shared.events import Envelope
from shared.events.referrals import OutreachRecorded
from shared.migrations import current, scripts
from shared.settings import Settings
from tests.conftest import _postgres_database
from tests.helpers import ServedApp, eventually, publish, token
from tests.migrations.make_previous_release import SESSION_ACTOR, SESSION_ID
from tests.migrations.previous import FIXTURES, previous_release_database

FAST = {"relay_interval_seconds": 0.05, "retry_backoff_seconds": [0.1]}


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[ServedApp]:
    async with ServedApp(app) as served:
        yield served


def at_head(served: ServedApp, schema: str) -> None:
    assert current(served.runtime.db) == tuple(scripts(schema).get_heads())


async def published(served: ServedApp) -> None:
    """Every outbox row is sent: the migrated outbox (its new columns empty) flows."""
    outbox = served.runtime.outbox

    def drained() -> bool:
        return served.runtime.read(outbox.backlog).unsent == 0

    await eventually(drained, timeout=15)


async def test_catalogue(database_url: str, nats_clean: str, tmp_path: Path) -> None:
    previous_release_database("catalogue", database_url, tmp_path)
    settings = Settings(service="catalogue", database_url=database_url, nats_url=nats_clean, **FAST)
    async with serving(build_catalogue(settings)) as served, served.client(token("guide")) as guide:
        at_head(served, "catalogue")
        listed = (await guide.get("/v1/communities", params={"per_page": 100})).json()
        ids = {c["id"] for c in listed["items"]}
        assert listed["total"] == 61 and {"demo-community-01", "demo-community-61"} <= ids, listed["total"]
        one = (await guide.get("/v1/communities/demo-community-01")).json()
        assert one["name"] == "Strikkeklubben Maskerne", one
        async with served.client(token("admin")) as admin:
            made = await admin.post("/v1/organizations", json={"name": "Efter opgraderingen", "kind": "association"})
            assert made.status_code == 201, made.text
            assert (await admin.get(f"/v1/organizations/{made.json()['id']}")).json()["name"] == "Efter opgraderingen"
        await published(served)


async def test_referrals(database_url: str, nats_clean: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    keys_url = f"sqlite:///{tmp_path / 'keys.db'}"
    keys_database = None
    if database_url.startswith("postgresql"):
        keys_database = _postgres_database(request.getfixturevalue("postgres_admin_url"))
        keys_url = keys_database.__enter__()
    try:
        previous_release_database("referrals", database_url, tmp_path)
        previous_release_database("referrals_keys", keys_url, tmp_path)
        kek = tmp_path / "kek.json"
        shutil.copy(FIXTURES / "referrals-kek.json", kek)
        kek.chmod(0o600)
        settings = ReferralsSettings(
            database_url=database_url, key_store_url=keys_url, citizen_kek_file=str(kek), nats_url=nats_clean, **FAST
        )
        async with (
            serving(build_referrals(settings)) as served,
            served.client(token("professional", "prof-socpsyk-ahmed")) as professional,
        ):
            at_head(served, "referrals")
            mine = await professional.get("/v1/referrals")
            assert mine.status_code == 200, mine.text
            ids = {r["referral_id"] for r in mine.json()}
            assert "r-demo-003" in ids and len(ids) == 11
            # The citizen's record opens: their key from the old key store, under the old KEK.
            record = await professional.get("/v1/citizens/c-demo-003")
            assert record.status_code == 200, record.text
            # (the consent's attributes are sealed with that key)
            assert record.json()["consent"]["recorded_by"] == "guide-anne", record.json()
            made = await professional.post("/v1/outreach", json={"kind": "info_meeting", "count": 3})
            assert made.status_code == 201, made.text
            await published(served)
    finally:
        if keys_database is not None:
            keys_database.__exit__(None, None, None)


def no_timer_due(served: ServedApp) -> bool:
    """No scheduled timer is due now (read without a lock: one the worker is firing is still
    scheduled until its transaction commits)."""
    from services.notifications.store import TimerRow

    due = select(func.count()).where(TimerRow.status == "scheduled", TimerRow.due_at <= datetime.now(UTC))
    return served.runtime.read(lambda session: session.scalar(due)) == 0


async def test_notifications(database_url: str, nats_clean: str, tmp_path: Path) -> None:
    previous_release_database("notifications", database_url, tmp_path)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        query = text("SELECT id FROM nudge WHERE recipient_id = :who")
        old = {row[0] for row in conn.execute(query, {"who": "prof-socpsyk-ahmed"})}
    engine.dispose()
    settings = NotificationSettings(database_url=database_url, nats_url=nats_clean, smtp_port=1, **FAST)
    async with (
        serving(build_notifications(settings)) as served,
        served.client(token("professional", "prof-socpsyk-ahmed")) as professional,
    ):
        at_head(served, "notifications")
        # The service's timers may add a nudge as the days pass since the dump: the inbox is read
        # once every timer due at start has fired (committed), so none adds one between the two
        # counts compared below; and the old ones are counted.
        await eventually(lambda: no_timer_due(served))
        inbox = (await professional.get("/v1/inbox")).json()
        kept = [m for m in inbox["messages"] if m["id"] in old]
        assert len(kept) == len(old) == 6, inbox
        assert sum(m["read_at"] is None for m in kept) == 5, inbox  # one read in the previous release
        unread = next(m["id"] for m in kept if m["read_at"] is None)
        read = await professional.post(f"/v1/inbox/{unread}/read")
        assert read.status_code == 200, read.text
        assert (await professional.get("/v1/inbox/unread")).json()["unread"] == inbox["unread"] - 1


async def test_analytics(database_url: str, nats_clean: str, tmp_path: Path) -> None:
    from services.analytics.main import build as build_analytics
    from services.analytics.store import Base

    previous_release_database("analytics", database_url, tmp_path)
    settings = Settings(service="analytics", database_url=database_url, nats_url=nats_clean, **FAST)
    async with serving(build_analytics(settings)) as served, served.client(token("analyst")) as analyst:
        at_head(served, "analytics")
        period = {"from": "2000-01-01", "to": "2199-12-31"}
        metrics = await analyst.get("/v1/metrics", params=period)
        assert metrics.status_code == 200, metrics.text
        assert metrics.json()["referrals"]["created"] == 57, metrics.json()["referrals"]
        # Something new through its consumers: the inbox of the previous release takes it.
        outreach = Base.metadata.tables["an_outreach"]
        before = served.runtime.read(lambda s: s.scalar(select(func.count()).select_from(outreach)))
        event = OutreachRecorded(actor_id="amb-lars", kind="info_meeting", count=2)
        await publish(nats_clean, Envelope.wrap(event, source="/tests/migrations", time=datetime.now(UTC)))
        await eventually(
            lambda: served.runtime.read(lambda s: s.scalar(select(func.count()).select_from(outreach))) == before + 1
        )


async def test_web(database_url: str, tmp_path: Path) -> None:
    previous_release_database("web", database_url, tmp_path)
    settings = WebSettings(database_url=database_url, session_idle_minutes=1e9, session_absolute_minutes=1e9)
    async with serving(build_web(settings)) as served, served.client() as browser:
        at_head(served, "web")
        browser.cookies.set("vejviser_session", SESSION_ID)
        # The session the previous release wrote still logs its user in.
        front = await browser.get("/")
        assert front.status_code == 303 and not front.headers["location"].startswith("/login"), front.headers
        out = await browser.post("/logout", data={"csrf_token": "previous-release-csrf"})
        assert out.status_code == 303 and out.headers["location"].startswith("/login"), out.text
        assert (await browser.get("/")).headers["location"] == "/login"
        sessions = served.runtime.metadata.tables["web_session"]
        left = served.runtime.read(lambda s: s.scalar(select(func.count()).select_from(sessions)))
        assert left == 0, f"the session of {SESSION_ACTOR} was not closed"
