"""One active consumer per durable among a service's replicas (`shared/lease.py`): two runtimes
of one service on one database and one nats-server. Every event goes to the replica holding the
lease, in stream order; when it stops, the other takes over and gets the rest, in order."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from shared.events import Envelope, Event
from shared.events.referrals import ReferralCreated
from shared.lease import lease_for
from shared.observability import observe
from shared.runtime import Runtime
from shared.settings import Settings
from tests.helpers import eventually, publish

# The analytics service's own durable on the referrals stream (its NATS user may read it).
DURABLE = "projection-referrals"


def created(i: int) -> Envelope:
    event = ReferralCreated(referral_id=f"r-{i}", citizen_ref=f"c-{i}", community_id="k-1", referrer_id="a-1")
    return Envelope.wrap(event, source="/systems/test")


def replica(database_url: str, nats_url: str, name: str, seen: list[tuple[str, str]]) -> Runtime:
    settings = Settings(service="analytics", database_url=database_url, nats_url=nats_url, consumer_standby_seconds=0.1)
    runtime = Runtime(settings, MetaData())

    def handle(session: Session, envelope: Envelope, event: Event) -> None:
        assert isinstance(event, ReferralCreated)
        seen.append((name, event.referral_id))

    runtime.consume("referrals", DURABLE, {ReferralCreated: handle})
    return runtime


async def test_one_replica_consumes_and_a_standby_takes_over_when_it_stops(database_url: str, nats_clean: str) -> None:
    seen: list[tuple[str, str]] = []
    first, second = (replica(database_url, nats_clean, name, seen) for name in ("first", "second"))
    await first.start()
    try:
        await eventually(lambda: first.consumers[0].active)
        await second.start()
        try:
            await publish(nats_clean, *(created(i) for i in range(20)))
            await eventually(lambda: len(seen) == 20)
            assert seen == [("first", f"r-{i}") for i in range(20)]
            assert not second.consumers[0].active
            # What /readyz and /metrics show of it (vejviser_consumer_active):
            assert [lag.active for lag in (await observe(first, on_bus=True)).consumers] == [True]
            assert [lag.active for lag in (await observe(second, on_bus=True)).consumers] == [False]
        finally:
            await first.stop()
        await eventually(lambda: second.consumers[0].active)
        await publish(nats_clean, *(created(i) for i in range(20, 40)))
        await eventually(lambda: len(seen) == 40)
        assert seen[20:] == [("second", f"r-{i}") for i in range(20, 40)]
    finally:
        await second.stop()


def test_a_lease_is_held_by_one_holder_at_a_time_and_freed_by_release(database_url: str) -> None:
    one, other = lease_for(database_url, "analytics-x"), lease_for(database_url, "analytics-x")
    unrelated = lease_for(database_url, "analytics-y")
    try:
        assert one.hold() and one.hold()  # asked again while held: still held
        assert not other.hold()
        assert unrelated.hold()
        one.release()
        assert other.hold()
        assert not one.hold()
    finally:
        for lease in (one, other, unrelated):
            lease.release()


def test_an_in_memory_database_has_one_process_and_its_lease_is_always_held(tmp_path: Path) -> None:
    assert lease_for("sqlite://", "x").hold() and lease_for("sqlite:///:memory:", "x").hold()
    assert lease_for(f"sqlite:///{tmp_path / 'a.db'}", "x").hold()
    assert (tmp_path / "a.db-x.lease").exists()
