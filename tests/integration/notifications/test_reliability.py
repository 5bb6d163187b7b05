"""Exactly-once effect and durable timers: redelivery, replay, restart (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import nats
import pytest
from jinja2 import Environment, StrictUndefined
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.notifications import store
from services.notifications.domain import Rule
from services.notifications.main import build
from shared.bus import ensure_streams, stream_name
from shared.clock import FakeClock
from shared.db import Database
from tests.helpers import ServedApp, eventually, stream_events

from .conftest import MailBox, Service, make_settings, referral_created, wrap


async def _acked_all(nats_url: str, context: str, durable: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stream = await js.stream_info(stream_name(context))
        consumer = await js.consumer_info(stream_name(context), durable)
        return consumer.ack_floor.stream_seq == stream.state.last_seq and consumer.num_pending == 0
    finally:
        await nc.close()


async def test_a_redelivered_or_replayed_referral_sends_one_message_not_two(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, database_url: str
) -> None:
    box, port = smtp
    settings = make_settings(database_url, nats_clean, port)
    async with ServedApp(build(settings, clock=clock)) as served:
        service = Service(served, clock, box, nats_clean)
        await service.world()
        envelope = wrap(referral_created(), clock.now())
        # The same CloudEvent twice under different Nats-Msg-Ids, so JetStream's own
        # dedup window does not hide the second copy: the service must.
        nc = await nats.connect(nats_clean)
        js = nc.jetstream()
        await ensure_streams(js)
        for msg_id in ("first", "second"):
            await js.publish(envelope.nats_subject, envelope.to_json(), headers={"Nats-Msg-Id": msg_id})
        await nc.close()
        await eventually(lambda: _acked_all(nats_clean, "referrals", "notifications-referrals"))
        await service.mail_to("birthe@maskerne.dk")
        await service.settle()
        assert len(box.to("birthe@maskerne.dk")) == 1

    # Replay everything from the start with the inbox records gone (a restored backup, a
    # rebuilt consumer): the dedup key per rule, subject and recipient still holds.
    with _db(database_url) as session:
        session.execute(delete(store.Base.metadata.tables["inbox"]))
    nc = await nats.connect(nats_clean)
    await nc.jetstream().delete_consumer(stream_name("referrals"), "notifications-referrals")
    await nc.close()
    async with ServedApp(build(settings, clock=clock)) as served:
        replayed = Service(served, clock, box, nats_clean)
        await eventually(lambda: _acked_all(nats_clean, "referrals", "notifications-referrals"))
        await replayed.settle()
        assert len(replayed.nudges("welcome_contact")) == 1
    assert len(box.to("birthe@maskerne.dk")) == 1
    sent = [e for e in await stream_events(nats_clean, "notifications") if e.data["rule"] == "welcome_contact"]
    assert len(sent) == 1


@contextmanager
def _db(url: str) -> Iterator[Session]:
    database = Database(url)
    try:
        with database.transaction() as session:
            yield session
    finally:
        database.dispose()


async def test_a_timer_scheduled_before_a_restart_fires_after_it(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, database_url: str
) -> None:
    box, port = smtp
    settings = make_settings(database_url, nats_clean, port)
    async with ServedApp(build(settings, clock=clock)) as served:
        service = Service(served, clock, box, nats_clean)
        await service.world()
        await service.send(referral_created())
        await eventually(lambda: service.timers("welcome_followup", "scheduled"))
    assert box.to("mette@ringsted.dk", "Hvordan gik") == []

    clock.advance(timedelta(days=8))  # the service is down while the deadline passes
    async with ServedApp(build(settings, clock=clock)) as served:
        restarted = Service(served, clock, box, nats_clean)
        [nudge] = await restarted.mail_to("mette@ringsted.dk", subject="Hvordan gik")
        assert "Strikkeklubben Maskerne" in nudge["Subject"]
        assert [t.status for t in restarted.timers("welcome_followup")] == ["fired"]


async def test_the_store_keeps_one_nudge_per_dedup_key(database_url: str) -> None:
    db = Database(database_url)
    db.create_schema(store.Base.metadata)
    now = datetime(2024, 3, 12, 10, tzinfo=UTC)
    row = {
        "dedup_key": "welcome_contact|r1|community:c",
        "rule": "welcome_contact",
        "subject_id": "r1",
        "recipient_id": "community:c",
        "context": "{}",
        "status": "sent",
        "created_at": now,
    }
    with db.transaction() as session:
        session.add(store.NudgeRow(id="n1", **row))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(store.NudgeRow(id="n2", **row))
    with db.transaction() as session:
        [stored] = session.scalars(select(store.NudgeRow)).all()
        assert stored.id == "n1" and stored.created_at == now  # aware UTC on both dialects
    db.dispose()


async def test_one_broken_message_does_not_hold_back_the_others_in_a_tick(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two timers fall due in the same tick of the timer loop; the first one's template breaks.
    await service.world()
    await service.send(referral_created(needs_accompaniment=True))
    await service.mail_to("birthe@maskerne.dk")
    broken = Environment(undefined=StrictUndefined).from_string("{{ no_such_fact }}")
    messages = service.served.app.state.notifications.messages
    monkeypatch.setitem(messages.templates, Rule.accompaniment_needed, (broken, broken, broken))

    await service.advance(days=7, minutes=1)  # accompaniment (48 h) and follow-up (7 d) both due
    [followup] = await service.mail_to("mette@ringsted.dk", subject="Hvordan gik")
    assert "Strikkeklubben Maskerne" in followup["Subject"]
    assert service.mail.to("lars@example.dk") == [] and service.mail.to("anne@faellesskabsby.dk") == []

    # The broken message is kept, not lost: its deliveries wait for a retry with the error
    # (once the delivery loop, which runs on its own, has tried them).
    def tried() -> bool:
        deliveries = service.query(
            select(store.DeliveryRow).join(store.NudgeRow).where(store.NudgeRow.rule == "accompaniment_needed")
        )
        return bool(deliveries) and all(
            d.status == "pending" and "no_such_fact" in (d.last_error or "") for d in deliveries
        )

    await eventually(tried)
