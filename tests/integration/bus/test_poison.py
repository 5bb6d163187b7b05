"""No poison stops the bus (issue 14): an outbox row the server cannot take is set aside with
its reason and the rows after it flow, in order; an oversized event never gets in at all, and
the events after it reach analytics. Real nats-server, SQLite and PostgreSQL, real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from nats.js import JetStreamContext
from sqlalchemy import MetaData

from services.analytics.main import build as build_analytics
from services.referrals.main import build as build_referrals
from shared.bus import ensure_streams, stream_name
from shared.db import Database, insert_rows
from shared.events import MAX_EVENT_BYTES, Envelope, parse
from shared.events.referrals import CitizenRegistered, OutreachRecorded, ReferralAccepted, ReferrerActivated
from shared.natsserver import NatsServer
from shared.outbox import Outbox, OutboxRelay
from shared.settings import Settings
from tests.helpers import ServedApp, ServedApps, eventually, token

SOURCE = "/services/referrals"
AFTER = 100  # rows staged after the poison one


@dataclass
class Bus:
    db: Database
    outbox: Outbox
    relay: OutboxRelay
    js: JetStreamContext


@asynccontextmanager
async def bus(database_url: str, nats_url: str, *, ack_timeout: float = 5.0) -> AsyncIterator[Bus]:
    metadata = MetaData()
    outbox = Outbox(metadata)
    db = Database(database_url)
    db.create_schema(metadata)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        yield Bus(db, outbox, OutboxRelay(db, outbox, js, batch_size=1000, ack_timeout=ack_timeout), js)
    finally:
        with contextlib.suppress(ConnectionError):  # the server may be stopped by the test
            await nc.close()
        db.dispose()


def accepted(index: int) -> Envelope:
    return Envelope.wrap(ReferralAccepted(referral_id=f"r-{index:03d}"), source=SOURCE, id=f"e-{index:03d}")


def stage(target: Bus, *envelopes: Envelope) -> None:
    with target.db.transaction() as session:
        target.outbox.add(session, *envelopes)


def stage_poison(target: Bus, event_id: str, size: int) -> None:
    """A row as no API or ingest would stage it any more (an older version did): `size` bytes."""
    envelope = accepted(0).to_dict()
    envelope["id"] = event_id
    envelope["data"]["padding"] = "p" * size
    row = {
        "event_id": event_id,
        "subject": "vejviser.referrals.ReferralAccepted",
        "payload": json.dumps(envelope).encode(),
        "created_at": datetime.now(UTC),
    }
    with target.db.transaction() as session:
        insert_rows(session, target.outbox.table, [row])


async def consumed(nats_url: str, expected: int) -> list[str]:
    """The event ids a fresh consumer of the referrals stream reads, in order."""
    nc = await nats.connect(nats_url)
    try:
        subscription = await nc.jetstream().pull_subscribe("vejviser.referrals.>", stream=stream_name("referrals"))
        ids: list[str] = []
        while len(ids) < expected:
            try:
                messages = await subscription.fetch(expected - len(ids), timeout=2)
            except nats.errors.TimeoutError:
                break
            for message in messages:
                ids.append(parse(message.data)[0].id)
                await message.ack()
        return ids
    finally:
        await nc.close()


def warnings_about(caplog: pytest.LogCaptureFixture, event_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and event_id in r.getMessage()]


async def test_a_row_too_large_for_the_server_is_set_aside_and_the_rows_after_it_flow(
    database_url: str, nats_clean: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with bus(database_url, nats_clean) as target:
        stage(target, accepted(1))
        stage_poison(target, "e-poison", 2 * 1024 * 1024)  # twice NATS's default max_payload
        stage(target, *(accepted(i) for i in range(2, 2 + AFTER)))

        with caplog.at_level(logging.WARNING, logger="vejviser.outbox"):
            settled = await target.relay.relay_once()  # one round: nothing waits behind the poison
        assert settled == AFTER + 2

        with target.db.read() as session:
            aside = target.outbox.set_aside(session)
            backlog = target.outbox.backlog(session)
        assert [(row.event_id, row.subject) for row in aside] == [("e-poison", "vejviser.referrals.ReferralAccepted")]
        assert aside[0].failure.endswith("more than the server's max_payload of 1048576 bytes"), aside[0].failure
        assert aside[0].failed_at is not None
        assert (backlog.unsent, backlog.oldest_unsent_at, backlog.set_aside) == (0, None, 1)

        assert await consumed(nats_clean, AFTER + 1) == [f"e-{i:03d}" for i in range(1, 2 + AFTER)]
        logged = warnings_about(caplog, "e-poison")
        assert len(logged) == 1 and "max_payload" in logged[0], logged
        assert "ppp" not in caplog.text  # no payload in the log

        assert await target.relay.relay_once() == 0  # set aside stays aside
        print(f"\npoison: 1 row set aside ({aside[0].failure}); {AFTER + 1} rows around it published and consumed")


async def test_a_row_jetstream_refuses_is_set_aside_with_its_words(
    database_url: str, nats_clean: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the server's max_payload but over the stream's max_msg_size: JetStream answers an
    error, which a pipelined publish never hears (nats-py), and the relay asks once on its own."""
    async with bus(database_url, nats_clean, ack_timeout=1.0) as target:
        info = await target.js.stream_info(stream_name("referrals"))
        info.config.max_msg_size = MAX_EVENT_BYTES
        await target.js.update_stream(info.config)
        stage(target, accepted(1))
        stage_poison(target, "e-refused", MAX_EVENT_BYTES)
        stage(target, *(accepted(i) for i in range(2, 12)))

        with caplog.at_level(logging.WARNING, logger="vejviser.outbox"):
            while await target.relay.relay_once():
                pass

        with target.db.read() as session:
            aside = target.outbox.set_aside(session)
            assert target.outbox.backlog(session).unsent == 0
        assert [row.event_id for row in aside] == ["e-refused"]
        assert aside[0].failure.startswith("JetStream refused it: message size exceeds maximum allowed"), aside
        assert await consumed(nats_clean, 11) == [f"e-{i:03d}" for i in range(1, 12)]
        assert "ppp" not in caplog.text


async def test_without_a_pub_ack_rows_keep_their_order_and_nothing_is_set_aside(
    database_url: str, tmp_path: Path
) -> None:
    with NatsServer(tmp_path / "nats") as server:
        url = getattr(server, "admin_url", server.url)
        async with bus(database_url, url, ack_timeout=0.5) as target:
            stage(target, *(accepted(i) for i in range(1, 6)))
            server.stop()
            await asyncio.sleep(0.2)
            assert await target.relay.relay_once() == 0
            with target.db.read() as session:
                backlog = target.outbox.backlog(session)
            assert (backlog.unsent, backlog.set_aside) == (5, 0)
            assert backlog.oldest_unsent_at is not None


# ---------------------------------------------------------------------- the test

SYSTEM = token("municipal_system", "system-jobcenter")
ADMIN = token("admin", "admin-kommune")


def cloudevent(event: Any, id: str) -> dict[str, Any]:
    return {**Envelope.wrap(event, source="/systems/jobcenter", id=id).to_dict(), "consentdate": "2025-03-01"}


@pytest.fixture
async def referrals_and_analytics(nats_clean: str, tmp_path: Path) -> AsyncIterator[dict[str, ServedApp]]:
    async with ServedApps() as apps:
        served = {}
        for name, build in (("referrals", build_referrals), ("analytics", build_analytics)):
            settings = Settings(
                service=name,
                database_url=f"sqlite:///{tmp_path / (name + '.db')}",
                nats_url=nats_clean,
                relay_interval_seconds=0.05,
                retry_backoff_seconds=[0.1],
            )
            served[name] = await apps.serve(build(settings))
        yield served


async def test_a_10_mb_event_is_refused_and_the_events_after_it_reach_analytics(
    referrals_and_analytics: dict[str, ServedApp],
) -> None:
    referrals, analytics = referrals_and_analytics["referrals"], referrals_and_analytics["analytics"]
    batch = {"Content-Type": "application/cloudevents-batch+json"}
    async with referrals.client(SYSTEM) as client:
        huge = cloudevent(CitizenRegistered(citizen_ref="c-huge"), "e-huge")
        huge["data"]["area"] = "x" * (10 * 1024 * 1024)
        refused = await client.post("/v1/events", json=huge)
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"]["message"] == (
            "the request body is too large: at most 1048576 bytes; send less per request"
        )

        large = cloudevent(CitizenRegistered(citizen_ref="c-large"), "e-large")
        large["data"]["area"] = "x" * (100 * 1024)
        padded = cloudevent(CitizenRegistered(citizen_ref="c-padded"), "e-padded")
        padded["data"]["note"] = "y" * (70 * 1024)  # unknown fields travel as posted: the whole is measured
        professional = ReferrerActivated(actor_id="prof-jc-1", role="professional", sector="job_centre")
        answer = await client.post(
            "/v1/events", json=[large, padded, cloudevent(professional, "e-prof")], headers=batch
        )
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["status"] for r in results] == ["rejected", "rejected", "accepted"]  # each on its own
        assert results[0]["reason"] == "data.area: at most 64 characters, not 102400"
        assert re.fullmatch(
            r"the event is 7\d{4} bytes as JSON; an event may be at most 65536 bytes \(64 KiB\): shorten its fields",
            results[1]["reason"],
        ), results[1]["reason"]

        after = [
            cloudevent(OutreachRecorded(actor_id="prof-jc-1", kind="postcards", count=7, area="vestervang"), "e-o1"),
            cloudevent(OutreachRecorded(actor_id="prof-jc-1", kind="info_meeting", count=2), "e-o2"),
        ]
        posted = await client.post("/v1/events", json=after, headers=batch)
        assert posted.json()["accepted"] == 2, posted.text

    async def counted() -> dict[str, Any] | None:
        async with analytics.client(ADMIN) as client:
            metrics = (await client.get("/v1/metrics", params={"suppress": "false"})).json()
        return metrics if metrics["outreach"].get("postcards") == 7 else None

    metrics = await eventually(counted, timeout=30)
    assert metrics["outreach"]["info_meeting"] == 2
    async with referrals.client() as client:
        ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ok", ready
