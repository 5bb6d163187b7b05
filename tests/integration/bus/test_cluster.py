"""Past one machine: the event backbone on a three-node nats-server cluster with R3 streams.

A producer's outbox relay and a consumer (with its effect and inbox in its own database) run
against all three servers while the node that leads the stream is SIGKILLed under load. The
stream stays writable on the other two, a new leader takes over, and every event staged is
applied exactly once. `SOAK=1`: more events, and after the first node rejoins, the new leader
is killed too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.orm import Session

from shared.bus import stream_configs, stream_name
from shared.events import Envelope, Event
from shared.events.referrals import ReferralCreated
from shared.nats_auth import generate_credentials
from shared.natscluster import NatsCluster
from shared.runtime import Runtime
from shared.settings import Settings
from tests.helpers import eventually

SOAK = os.environ.get("SOAK") == "1"
EVENTS = 10_000 if SOAK else 2_000
BATCH = 25  # events per unit of work: a steady trickle, as a busy service makes them
STREAM = stream_name("referrals")
# The ledger stands in for analytics' projection of the referrals stream: the durable its
# NATS user may read (shared/nats_auth.py).
DURABLE = "projection-referrals"
KILLS = 2 if SOAK else 1


class Ledger:
    """The consumer's effect: one row per applied event, in its own database."""

    def __init__(self) -> None:
        self.metadata = MetaData()
        self.table = Table(
            "cluster_ledger",
            self.metadata,
            Column("n", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(64), nullable=False),
        )

    def handle(self, session: Session, envelope: Envelope, event: Event) -> None:
        session.execute(self.table.insert().values(event_id=envelope.id))

    def counts(self, runtime: Runtime) -> tuple[int, int]:
        """(rows, distinct event ids)."""
        with runtime.db.read() as session:
            rows = session.scalar(select(func.count()).select_from(self.table)) or 0
            distinct = session.scalar(select(func.count(func.distinct(self.table.c.event_id)))) or 0
        return int(rows), int(distinct)

    def event_ids(self, runtime: Runtime) -> set[str]:
        with runtime.db.read() as session:
            return set(session.scalars(select(self.table.c.event_id)))


def settings(service: str, database: Path, nats_url: str) -> Settings:
    return Settings(
        service=service,
        database_url=f"sqlite:///{database}",
        nats_url=nats_url,
        stream_replicas=3,
        relay_interval_seconds=0.05,
        relay_batch=200,
        fetch_batch=100,
        max_deliver=10,
        retry_backoff_seconds=[0.2],
    )


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NatsCluster]:
    """Three nodes admitting only the users of shared/nats_auth.py; every service's Settings
    connects as that service."""
    path = tmp_path / "credentials.json"
    credentials = generate_credentials(path)
    monkeypatch.setenv("NATS_CREDENTIALS_FILE", str(path))
    with NatsCluster(tmp_path / "cluster", size=3, credentials=credentials) as nodes:
        yield nodes


@pytest.fixture
async def admin(cluster: NatsCluster) -> AsyncIterator[Client]:
    """The operator's raw connection, to every node (it follows the cluster through a kill)."""
    nc = await nats.connect(servers=cluster.admin_urls, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        yield nc
    finally:
        await nc.close()


@dataclass
class Load:
    """What the producer staged, and the kills made meanwhile."""

    staged: list[str] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)
    applied_at_kill: list[int] = field(default_factory=list)


async def stream_leader(nc: Client) -> str:
    async def elected() -> str | None:
        try:
            info = await nc.jetstream().stream_info(STREAM)
        except Exception:  # no leader yet: the API does not answer for the stream meanwhile
            return None
        return info.cluster.leader if info.cluster else None

    leader: str = await eventually(elected, timeout=30, interval=0.2)
    return leader


async def test_losing_the_stream_leader_under_load_loses_nothing_and_doubles_nothing(
    cluster: NatsCluster, admin: Client, tmp_path: Path
) -> None:
    producer = Runtime(settings("referrals", tmp_path / "referrals.db", cluster.url), MetaData())
    ledger = Ledger()
    consumer = Runtime(settings("analytics", tmp_path / "analytics.db", cluster.url), ledger.metadata)
    # Acks sent to a node as it dies are lost; the message comes again after ack_wait, and
    # the inbox must make that harmless. A short wait keeps the test short.
    consumer.policy.ack_wait = 3.0
    consumer.consume("referrals", DURABLE, {ReferralCreated: ledger.handle})
    await producer.start()
    await consumer.start()
    try:
        streams = await admin.jetstream().streams_info()
        assert {s.config.name: s.config.num_replicas for s in streams} == {c.name: 3 for c in stream_configs()}
        info = await admin.jetstream().stream_info(STREAM)
        assert info.cluster is not None and info.cluster.leader is not None
        peers = {info.cluster.leader, *(peer.name for peer in info.cluster.replicas or [])}
        assert peers == set(cluster.names), f"REFERRALS is not on all three nodes: {peers}"

        load = Load()
        # When to act, by events staged so far: kill the stream's leader mid-load (SOAK: let it
        # rejoin, then kill the leader that took over).
        plan = (
            [(EVENTS // 4, "kill"), (EVENTS // 2, "rejoin"), (3 * EVENTS // 4, "kill")]
            if SOAK
            else [(EVENTS // 3, "kill")]
        )
        for start in range(0, EVENTS, BATCH):
            await asyncio.to_thread(stage, producer, load, start, BATCH)
            action = plan[0][1] if plan and len(load.staged) >= plan[0][0] else None
            if action is not None:
                plan.pop(0)
            if action == "kill":
                await kill_stream_leader(cluster, admin, ledger, consumer, load)
            elif action == "rejoin":
                first = cluster.index_of(load.killed[0])
                await asyncio.to_thread(cluster.start_node, first)  # back, caught up with its peers
            await asyncio.sleep(0.01)

        await eventually(lambda: ledger.counts(consumer)[0] >= EVENTS, timeout=60, interval=0.2)
        # Anything redelivered late (an ack lost with the node) would land now: give it its chance.
        await asyncio.sleep(consumer.policy.ack_wait + 0.5)
        rows, distinct = ledger.counts(consumer)
        applied = ledger.event_ids(consumer)
        lost = len(set(load.staged) - applied)
        duplicated = rows - distinct
        new_leader = await stream_leader(admin)
        on_stream = (await admin.jetstream().stream_info(STREAM)).state.messages
        print(
            f"\ncluster: {EVENTS} events staged, {rows} applied, {on_stream} on the stream; "
            f"killed {' then '.join(load.killed)} (stream leader) with {load.applied_at_kill} applied; "
            f"{rows - load.applied_at_kill[0]} applied after the first kill; leader now {new_leader}; "
            f"lost {lost}, duplicated {duplicated}"
        )
        assert lost == 0
        assert duplicated == 0
        assert rows == EVENTS
        assert on_stream == EVENTS  # the relay's re-sends after the kill were deduplicated
        assert len(load.killed) == KILLS
        assert all(at < EVENTS for at in load.applied_at_kill)  # killed while there was work left,
        # which the consumer went on to apply (lost == 0 above)
        assert new_leader != load.killed[-1]
        with producer.db.read() as session:
            assert producer.outbox.unsent_count(session) == 0
    finally:
        await consumer.stop()
        await producer.stop()


def stage(producer: Runtime, load: Load, start: int, count: int) -> None:
    events = [
        ReferralCreated(referral_id=f"r-{i}", citizen_ref=f"c-{i}", community_id="k-1", referrer_id="a-1")
        for i in range(start, start + count)
    ]
    with producer.unit_of_work() as uow:
        load.staged += [envelope.id for envelope in uow.stage(*events)]


async def kill_stream_leader(
    cluster: NatsCluster, admin: Client, ledger: Ledger, consumer: Runtime, load: Load
) -> None:
    leader = await stream_leader(admin)
    load.applied_at_kill.append(ledger.counts(consumer)[0])
    cluster.kill(cluster.index_of(leader))
    load.killed.append(leader)
    # The load goes on at once: the relay keeps unsent rows until a new leader acks them.
