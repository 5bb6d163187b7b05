"""The event backbone against a real nats-server and real databases: outbox, relay, inbox,
retries, dead letters and replay."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.orm import Session

from shared.bus import DLQ_STREAM, list_dead_letters, replay_dead_letter
from shared.events import Envelope, Event
from shared.events.referrals import ReferralCreated
from shared.ids import new_id
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.settings import Settings
from tests.helpers import eventually, publish, stream_events

REPO = Path(__file__).resolve().parents[2]


class Ledger:
    """A consumer whose effect is a row per event, and that can be told to fail."""

    def __init__(self) -> None:
        self.metadata = MetaData()
        self.table = Table(
            "ledger",
            self.metadata,
            Column("n", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(64)),
            Column("referral_id", String(64)),
        )
        self.failing: set[str] = set()
        self.calls: dict[str, int] = {}

    def handle(self, session: Session, envelope: Envelope, event: Event) -> None:
        assert isinstance(event, ReferralCreated)
        self.calls[event.referral_id] = self.calls.get(event.referral_id, 0) + 1
        session.execute(self.table.insert().values(event_id=envelope.id, referral_id=event.referral_id))
        if event.referral_id in self.failing:
            raise RuntimeError("the community directory is unreachable")

    def rows(self, runtime: Runtime) -> list[str]:
        with runtime.db.transaction() as session:
            return list(session.scalars(select(self.table.c.referral_id).order_by(self.table.c.n)))


# The consumer runs as the analytics service under its own NATS user, so it takes one of the
# durables that user may read (shared/nats_auth.py CONSUMES): analytics' on the referrals stream.
LEDGER = "projection-referrals"


def consumer_settings(database_url: str, nats_url: str) -> Settings:
    return Settings(
        service="analytics",
        database_url=database_url,
        nats_url=nats_url,
        max_deliver=3,
        retry_backoff_seconds=[0.1],
        relay_interval_seconds=0.05,
    )


@pytest.fixture
async def ledger_runtime(database_url: str, nats_clean: str) -> AsyncIterator[tuple[Runtime, Ledger]]:
    ledger = Ledger()
    runtime = Runtime(consumer_settings(database_url, nats_clean), ledger.metadata)
    runtime.consume("referrals", LEDGER, {ReferralCreated: ledger.handle})
    await runtime.start()
    yield runtime, ledger
    await runtime.stop()


def run_publisher(db_url: str, nats_url: str, count: int, *flags: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.integration.backbone_proc", db_url, nats_url, str(count), *flags],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    return proc.returncode


def envelope(i: int) -> Envelope:
    event = ReferralCreated(referral_id=f"r-{i}", citizen_ref=f"c-{i}", community_id="k-1", referrer_id="a-1")
    return Envelope.wrap(event, source="/systems/test")


async def test_event_published_by_one_process_is_consumed_by_another(
    ledger_runtime: tuple[Runtime, Ledger], tmp_path: Path, nats_clean: str
) -> None:
    runtime, ledger = ledger_runtime
    assert run_publisher(f"sqlite:///{tmp_path / 'publisher.db'}", nats_clean, 5) == 0
    rows = await eventually(lambda: len(ledger.rows(runtime)) == 5 and ledger.rows(runtime))
    assert rows == [f"r-{i}" for i in range(5)]
    on_stream = await stream_events(nats_clean, "referrals")
    assert [e.data["referral_id"] for e in on_stream] == [f"r-{i}" for i in range(5)]
    assert all(e.source == "/services/referrals" for e in on_stream)


async def test_publisher_killed_between_commit_and_publish_loses_nothing(
    tmp_path: Path, nats_clean: str, database_url: str
) -> None:
    assert run_publisher(database_url, nats_clean, 3, "--crash-after-commit") == 17
    nc = await nats.connect(nats_clean)
    try:
        streams = [s.config.name for s in await nc.jetstream().streams_info()]
    finally:
        await nc.close()
    assert "REFERRALS" not in streams  # nothing reached the bus before the crash
    assert run_publisher(database_url, nats_clean, 0) == 0  # restart: the relay sends the backlog
    on_stream = await stream_events(nats_clean, "referrals")
    assert sorted(e.data["referral_id"] for e in on_stream) == ["r-0", "r-1", "r-2"]
    assert run_publisher(database_url, nats_clean, 0) == 0  # a further start re-sends nothing
    assert len(await stream_events(nats_clean, "referrals")) == 3


async def test_redelivered_event_has_no_second_effect(ledger_runtime: tuple[Runtime, Ledger], nats_clean: str) -> None:
    runtime, ledger = ledger_runtime
    env = envelope(1)
    # The same event under two different Nats-Msg-Ids gets past JetStream's dedup, as a
    # replay or a producer's retry after the dedup window would: only the inbox stands between.
    nc = await nats.connect(nats_clean)
    js = nc.jetstream()
    for msg_id in ("first", "second"):
        await js.publish(env.nats_subject, env.to_json(), headers={"Nats-Msg-Id": msg_id})
    await js.publish(envelope(2).nats_subject, envelope(2).to_json())
    await nc.close()
    await eventually(lambda: "r-2" in ledger.rows(runtime))
    assert ledger.rows(runtime) == ["r-1", "r-2"]
    assert ledger.calls == {"r-1": 1, "r-2": 1}


async def test_failing_handler_is_retried_then_dead_lettered_and_later_messages_flow(
    ledger_runtime: tuple[Runtime, Ledger], nats_clean: str
) -> None:
    runtime, ledger = ledger_runtime
    ledger.failing.add("r-1")
    await publish(nats_clean, envelope(1), envelope(2), envelope(3))
    await eventually(lambda: {"r-2", "r-3"} <= set(ledger.rows(runtime)))

    nc = await nats.connect(nats_clean)
    js = nc.jetstream()
    try:
        letters = await eventually(lambda: list_dead_letters(js), timeout=15)
        assert len(letters) == 1
        letter = letters[0]
        assert json.loads(letter.data)["data"]["referral_id"] == "r-1"
        assert letter.consumer == f"analytics-{LEDGER}"
        assert letter.stream == "REFERRALS"
        assert "failed 3 deliveries" in letter.reason and "unreachable" in letter.reason
        assert ledger.calls["r-1"] >= 3  # every delivery tried it (and rolled it back)
        assert "r-1" not in ledger.rows(runtime)

        # The cause is fixed; the operator replays the dead letter and it is processed once.
        ledger.failing.clear()
        await replay_dead_letter(js, letter.seq)
        await eventually(lambda: "r-1" in ledger.rows(runtime))
        assert (await js.stream_info(DLQ_STREAM)).state.messages == 0
    finally:
        await nc.close()
    await publish(nats_clean, envelope(4))
    await eventually(lambda: "r-4" in ledger.rows(runtime))
    assert sorted(ledger.rows(runtime)) == ["r-1", "r-2", "r-3", "r-4"]


async def test_poison_message_is_terminated_at_once_with_its_reason(
    ledger_runtime: tuple[Runtime, Ledger], nats_clean: str
) -> None:
    runtime, ledger = ledger_runtime
    nc = await nats.connect(nats_clean)
    js = nc.jetstream()
    try:
        bad = {
            "specversion": "1.0",
            "id": "bad-1",
            "source": "/x",
            "type": "dk.vejviser.ReferralCreated.v1",
            "time": "2024-05-01T10:00:00Z",
            "data": {"referral_id": "r-x"},
        }
        await js.publish("vejviser.referrals.ReferralCreated", json.dumps(bad).encode())
        await publish(nats_clean, envelope(5))
        await eventually(lambda: "r-5" in ledger.rows(runtime))
        letters = await eventually(lambda: list_dead_letters(js), timeout=15)
        assert letters[0].reason.startswith("poison: data.citizen_ref")
        assert ledger.calls.get("r-x") is None
    finally:
        await nc.close()


async def test_outbox_rows_are_marked_sent_only_after_the_puback(database_url: str, fresh_nats) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(consumer_settings(database_url, fresh_nats.url), MetaData())
    await runtime.start()
    try:
        assert runtime.relay is not None
        runtime.relay.ack_timeout = 0.5
        fresh_nats.stop()  # no server: no PubAck can come
        with runtime.unit_of_work() as uow:
            uow.stage(envelope(7).decode())
        sent = await runtime.relay.relay_once()
        assert sent == 0
        with runtime.db.transaction() as session:
            assert runtime.outbox.unsent_count(session) == 1
    finally:
        await runtime.stop()


def test_outbox_and_inbox_tables_work_on_both_databases(database_url: str) -> None:
    runtime = Runtime(Settings(service="referrals", database_url=database_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    with runtime.unit_of_work() as uow:
        envs = uow.stage(envelope(1).decode(), envelope(2).decode())
    with runtime.db.transaction() as session:
        pending = runtime.outbox.pending(session, 10)
        assert [p[1] for p in pending] == [e.id for e in envs]
        runtime.outbox.mark_sent(session, [pending[0][0]])
    with runtime.db.transaction() as session:
        assert runtime.outbox.unsent_count(session) == 1
        assert runtime.inbox.claim(session, "c", ["a", "b", "a"]) == {"a", "b"}
        assert runtime.inbox.claim(session, "c", ["a", "x"]) == {"x"}
        assert runtime.inbox.claim(session, "other", ["a"]) == {"a"}
        assert session.scalar(select(func.count()).select_from(runtime.inbox.table)) == 4
    runtime.db.dispose()


def test_inbox_claims_only_new_ids_across_chunks_with_one_utc_time(database_url: str) -> None:
    # claim() sends 500 ids per statement and binds one timestamp per batch on the DB-API
    # cursor; both must agree with what SQLAlchemy reads back.
    runtime = Runtime(Settings(service="referrals", database_url=database_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    recorded = [new_id() for _ in range(1_200)]
    before = datetime.now(UTC)
    with runtime.db.transaction() as session:
        assert runtime.inbox.claim(session, "c", recorded) == set(recorded)
    unknown = [new_id() for _ in range(100)]
    with runtime.db.transaction() as session:
        assert runtime.inbox.claim(session, "c", recorded[:600] + unknown + recorded[600:]) == set(unknown)
    with runtime.db.read() as session:
        count = session.scalar(select(func.count()).select_from(runtime.inbox.table))
        times = session.scalars(select(runtime.inbox.table.c.processed_at).distinct()).all()
    assert count == 1_300
    assert len(times) == 2
    assert all(t.tzinfo is not None and before - timedelta(seconds=1) <= t <= datetime.now(UTC) for t in times)
    runtime.db.dispose()


def test_outbox_marks_thousands_of_rows_sent_and_keeps_the_rest_in_order(database_url: str) -> None:
    # mark_sent binds one array on PostgreSQL and chunks of 500 on SQLite.
    runtime = Runtime(Settings(service="referrals", database_url=database_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    with runtime.unit_of_work() as uow:
        uow.stage(*(envelope(i).decode() for i in range(1_200)))
    with runtime.db.transaction() as session:
        pending = runtime.outbox.pending(session, 2_000)
        keep = {pos for n, (pos, *_rest) in enumerate(pending) if n % 12 == 5}
        runtime.outbox.mark_sent(session, [pos for pos, *_rest in pending if pos not in keep])
    with runtime.db.read() as session:
        assert runtime.outbox.unsent_count(session) == 100
        assert [pos for pos, *_rest in runtime.outbox.pending(session, 2_000)] == sorted(keep)
    runtime.db.dispose()


async def test_relay_deletes_sent_rows_past_the_retention_and_never_unsent_ones(database_url: str) -> None:
    runtime = Runtime(Settings(service="referrals", database_url=database_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    table = runtime.outbox.table
    with runtime.unit_of_work() as uow:
        envs = uow.stage(*(envelope(i).decode() for i in range(4)))
    long_ago = datetime.now(UTC) - timedelta(days=10)
    with runtime.db.transaction() as session:
        positions = [pos for pos, *_rest in runtime.outbox.pending(session, 10)]
        runtime.outbox.mark_sent(session, positions[:3])
        session.execute(update(table).where(table.c.position.in_(positions[:2])).values(sent_at=long_ago))
        # an unsent row as old as the purged ones stays: it has not reached the bus yet
        session.execute(update(table).where(table.c.position == positions[3]).values(created_at=long_ago))
    # The purge never touches the bus, so the relay gets no JetStream context here.
    relay = OutboxRelay(runtime.db, runtime.outbox, cast(JetStreamContext, None), retention=timedelta(days=7))
    assert await relay.purge_if_due() == 2
    assert await relay.purge_if_due() == 0  # not due again for an hour
    with runtime.db.read() as session:
        left = set(session.scalars(select(table.c.event_id)))
        assert runtime.outbox.unsent_count(session) == 1
    assert left == {envs[2].id, envs[3].id}
    runtime.db.dispose()


def test_a_claim_rolled_back_with_its_effect_is_gone(database_url: str) -> None:
    runtime = Runtime(Settings(service="referrals", database_url=database_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    with runtime.db.transaction() as session:
        with pytest.raises(RuntimeError), session.begin_nested():
            assert runtime.inbox.claim(session, "c", ["e-1"]) == {"e-1"}
            raise RuntimeError("the effect failed")
        assert runtime.inbox.claim(session, "c", ["e-1"]) == {"e-1"}
    runtime.db.dispose()


def test_two_replicas_racing_for_one_event_claim_it_once(database_url: str) -> None:
    # Two replicas of a service share a durable; after an ack_wait expiry both can hold the
    # same event. The second claim waits for the first transaction (PostgreSQL: on the row;
    # SQLite: on the write lock) and then gets nothing for it.
    runtime = Runtime(Settings(service="referrals", database_url=database_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    first_claimed = threading.Event()
    results: dict[str, set[str]] = {}

    def replica(name: str, hold: float) -> None:
        with runtime.db.transaction() as session:
            if name == "second":
                first_claimed.wait(5)
            results[name] = runtime.inbox.claim(session, "c", ["e-1", f"own-{name}"])
            if name == "first":
                first_claimed.set()
                time.sleep(hold)  # the second replica's claim is now waiting on this row

    threads = [threading.Thread(target=replica, args=(n, 0.3)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"first": {"e-1", "own-first"}, "second": {"own-second"}}
    runtime.db.dispose()


async def test_operator_lists_and_replays_dead_letters_with_the_cli(
    ledger_runtime: tuple[Runtime, Ledger], nats_clean: str
) -> None:
    import asyncio

    runtime, ledger = ledger_runtime
    ledger.failing.add("r-8")
    await publish(nats_clean, envelope(8))
    nc = await nats.connect(nats_clean)
    try:
        letters = await eventually(lambda: list_dead_letters(nc.jetstream()), timeout=15)
    finally:
        await nc.close()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**__import__("os").environ, "NATS_URL": nats_clean}
        return subprocess.run(
            [sys.executable, "-m", "vejviser", "dlq", *args], cwd=REPO, env=env, capture_output=True, text=True
        )

    listed = await asyncio.to_thread(cli, "list")
    assert listed.returncode == 0, listed.stderr
    assert f"analytics-{LEDGER}" in listed.stdout
    assert "ReferralCreated" in listed.stdout and "unreachable" in listed.stdout

    missing = await asyncio.to_thread(cli, "replay", "9999")
    assert missing.returncode == 1 and "No dead letter" in missing.stderr

    ledger.failing.clear()
    replayed = await asyncio.to_thread(cli, "replay", str(letters[0].seq))
    assert replayed.returncode == 0, replayed.stderr
    await eventually(lambda: "r-8" in ledger.rows(runtime))
    assert "The DLQ is empty." in (await asyncio.to_thread(cli, "list")).stdout
