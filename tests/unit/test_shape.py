"""The shared shape every service is built from: unit of work, settings, background jobs, clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from shared.app import Background
from shared.clock import COPENHAGEN, FakeClock, local
from shared.events.referrals import ReferralCreated
from shared.runtime import Runtime
from shared.settings import Settings


class ReferralsLikeSettings(Settings):
    service: str = "referrals"
    extra_knob: int = 3


def referral(n: int) -> ReferralCreated:
    return ReferralCreated(referral_id=f"r-{n}", citizen_ref=f"c-{n}", community_id="k-1", referrer_id="a-1")


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    metadata = MetaData()
    Table("thing", metadata, Column("id", String(10), primary_key=True))
    clock = FakeClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    rt = Runtime(Settings(service="referrals", database_url=f"sqlite:///{tmp_path / 'r.db'}"), metadata, clock=clock)
    rt.db.create_schema(metadata)
    return rt


def counts(rt: Runtime) -> tuple[int, int]:
    things = rt.metadata.tables["thing"]
    return rt.read(
        lambda s: (
            s.scalar(select(func.count()).select_from(things)) or 0,
            s.scalar(select(func.count()).select_from(rt.outbox.table)) or 0,
        )
    )


def test_a_unit_of_work_commits_state_and_events_together_and_wakes_the_relay_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[int] = []
    monkeypatch.setattr(runtime, "committed", lambda: woken.append(1))
    with runtime.unit_of_work() as uow:
        uow.session.execute(insert(runtime.metadata.tables["thing"]), [{"id": "a"}])
        envelopes = uow.stage(referral(1), referral(2))
    assert counts(runtime) == (1, 2)
    assert woken == [1]
    # the events carry the service's source and the runtime clock's time
    assert {e.source for e in envelopes} == {"/services/referrals"}
    assert {e.time for e in envelopes} == {runtime.clock.now()}


def test_a_failing_unit_of_work_leaves_neither_state_nor_events_and_wakes_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[int] = []
    monkeypatch.setattr(runtime, "committed", lambda: woken.append(1))
    with pytest.raises(RuntimeError), runtime.unit_of_work() as uow:
        uow.session.execute(insert(runtime.metadata.tables["thing"]), [{"id": "a"}])
        uow.stage(referral(1))
        raise RuntimeError("refused half-way")
    assert counts(runtime) == (0, 0)
    assert woken == []


def test_write_returns_what_the_work_returns_and_a_unit_without_events_does_not_wake_the_relay(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[int] = []
    monkeypatch.setattr(runtime, "committed", lambda: woken.append(1))
    staged = runtime.write(lambda uow: len(uow.stage(referral(3))))
    nothing = runtime.write(lambda uow: uow.now().isoformat())
    assert staged == 1
    assert nothing == "2026-03-29T00:30:00+00:00"
    assert woken == [1]


def test_for_service_keeps_the_subclass_name_and_the_given_values(tmp_path: Path) -> None:
    base = Settings(service="catalogue", database_url=f"sqlite:///{tmp_path / 'x.db'}", max_deliver=9)
    coerced = ReferralsLikeSettings.for_service(base)
    assert isinstance(coerced, ReferralsLikeSettings)
    assert (coerced.service, coerced.database_url, coerced.max_deliver, coerced.extra_knob) == (
        "referrals",
        base.database_url,
        9,
        3,
    )
    assert ReferralsLikeSettings.for_service(coerced) is coerced
    assert ReferralsLikeSettings.for_service(coerced, extra_knob=5).extra_knob == 5


async def test_background_jobs_stop_when_asked_and_a_stuck_one_is_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    async def polite(stop: asyncio.Event) -> None:
        await stop.wait()
        seen.append("polite stopped")

    async def stuck(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("stuck cancelled")
            raise

    async def broken(stop: asyncio.Event) -> None:
        raise ValueError("boom")

    jobs = Background([("polite", polite), ("stuck", stuck), ("broken", broken)], grace=0.2)
    with caplog.at_level(logging.ERROR, logger="vejviser.app"):
        jobs.start()
        await asyncio.sleep(0.05)
        await jobs.close()
    assert seen == ["polite stopped", "stuck cancelled"]
    assert "background job broken failed" in caplog.text
    assert jobs.tasks == []


def test_local_time_follows_copenhagen_summer_time() -> None:
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert local(winter).hour == 13
    assert local(summer).hour == 14
    assert local(summer).tzinfo == COPENHAGEN
