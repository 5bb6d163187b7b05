"""The analytics service over real HTTP, a real nats-server and SQLite: events consumed live
give the worked metrics; roles and disclosure; CSV; snapshots published through the outbox;
a redelivered event changes nothing; a rebuild from the streams gives identical metrics."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats

from services.analytics import replay, service, store, upsert
from services.analytics.domain import Period
from services.analytics.main import build
from services.analytics.metrics import compute
from services.analytics.settings import AnalyticsSettings
from shared.bus import MSG_ID, stream_name
from shared.db import Database
from tests.helpers import ServedApp, eventually, publish, stream_events, token
from tests.integration.analytics.worked import AS_OF, history

H1 = {"from": "2024-01-01", "to": "2024-06-30"}


def settings(nats_url: str, db: Path) -> AnalyticsSettings:
    return AnalyticsSettings(
        database_url=f"sqlite:///{db}", nats_url=nats_url, relay_interval_seconds=0.05, retry_backoff_seconds=[0.1]
    )


def without_as_of(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "as_of"}


def expected_h1(tmp_path: Path) -> dict[str, Any]:
    """The worked history projected straight into a scratch database (see test_metrics_worked)."""
    from services.analytics.projection import Changes

    db = Database(f"sqlite:///{tmp_path / 'expected.db'}")
    db.create_schema(store.Base.metadata)
    changes = Changes()
    for envelope in history():
        changes.add_envelope(envelope, envelope.decode())
    upsert.apply(db, changes)
    with db.read() as session:
        snapshot = store.load_snapshot(session, AS_OF)
    db.dispose()
    return compute(snapshot, Period(*_dates(H1)), AS_OF)


async def consumers_idle(nats_url: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for context in ("referrals", "catalogue"):
            info = await js.consumer_info(stream_name(context), f"analytics-projection-{context}")
            if info.num_pending or info.num_ack_pending:
                return False
        return True
    finally:
        await nc.close()


async def test_live_projection_api_snapshots_and_rebuild(nats_clean: str, tmp_path: Path) -> None:
    expected = expected_h1(tmp_path)
    events = history()
    await publish(nats_clean, *events)
    app = build(settings(nats_clean, tmp_path / "analytics.db"))
    async with ServedApp(app) as served:
        runtime = served.runtime
        analytics = served.app.state.analytics
        async with served.client(token("analyst")) as analyst, served.client(token("admin")) as admin:

            async def caught_up() -> bool:
                response = await admin.get("/v1/metrics", params={**H1, "suppress": "false"})
                return without_as_of(response.json()) == without_as_of(expected)

            await eventually(caught_up, timeout=20)

            # Analysts always get disclosure control; admins may lift it.
            shown = (await analyst.get("/v1/metrics", params=H1)).json()
            assert shown["equity"]["by_target_group"]["unemployed"] == {"referred": None, "welcomed": None}
            assert "equity.by_target_group.unemployed.referred" in shown["suppressed"]
            refused = await analyst.get("/v1/metrics", params={**H1, "suppress": "false"})
            assert refused.status_code == 403
            assert "only guide and admin" in refused.json()["error"]["message"]
            lifted = (await admin.get("/v1/metrics", params={**H1, "suppress": "false"})).json()
            assert lifted["equity"]["by_target_group"]["unemployed"] == {"referred": 3, "welcomed": 3}
            assert lifted["suppressed"] == []
            async with served.client(token("professional")) as professional:
                assert (await professional.get("/v1/metrics")).status_code == 403
            async with served.client() as anonymous:
                assert (await anonymous.get("/v1/metrics")).status_code == 401
            bad = await analyst.get("/v1/metrics", params={"from": "2024-07-01", "to": "2024-06-01"})
            assert bad.status_code == 422 and "after" in bad.json()["error"]["message"]

            # CSV: one row per path, suppression always applied.
            exported = await admin.get("/v1/metrics.csv", params=H1)
            assert exported.headers["content-type"].startswith("text/csv")
            rows = dict(csv.reader(io.StringIO(exported.text)))
            assert rows["path"] == "value"
            assert rows["referrals.created"] == "5"
            p90 = expected["referrals"]["time_to_welcome_days"]["p90"]
            assert rows["referrals.time_to_welcome_days.p90"] == str(p90)
            assert rows["equity.by_target_group.unemployed.referred"] == ""
            assert rows["cascade.reach_by_guide.guide-b"] == "0"

            # Redelivered events (same event ids, new message ids) change nothing.
            before = without_as_of(analytics.metrics(Period(), AS_OF))
            nc = await nats.connect(nats_clean)
            js = nc.jetstream()
            for envelope in events[:15]:
                await js.publish(envelope.nats_subject, envelope.to_json(), headers={MSG_ID: f"again-{envelope.id}"})
            await nc.close()
            await eventually(lambda: consumers_idle(nats_clean), timeout=20)
            assert without_as_of(analytics.metrics(Period(), AS_OF)) == before

            # A snapshot is stored, listed, readable with disclosure, and published.
            now = datetime(2024, 7, 1, 1, 0, tzinfo=UTC)  # 03:00 in Copenhagen: yesterday = 30 June
            snapshot_id = await asyncio.to_thread(service.take_snapshot, runtime, now)
            listed = (await analyst.get("/v1/snapshots")).json()
            assert [s["snapshot_id"] for s in listed] == [snapshot_id]
            assert listed[0]["periods"]["yesterday"] == {"from": "2024-06-30", "to": "2024-06-30"}
            assert listed[0]["periods"]["last_30_days"] == {"from": "2024-06-01", "to": "2024-06-30"}
            one = (await analyst.get(f"/v1/snapshots/{snapshot_id}")).json()
            assert one["metrics"]["yesterday"]["referrals"]["created"] == 1  # r5 (23:30 on 30 June)
            assert one["metrics"]["all_time"]["referrals"]["created"] == 6  # every referral up to `now`
            assert (await analyst.get("/v1/snapshots/nope")).status_code == 404

            async def published() -> list[Any]:
                return [e for e in await stream_events(nats_clean, "analytics") if e.subject == snapshot_id]

            [event] = await eventually(published)
            assert event.type == "dk.vejviser.MetricsSnapshotPublished.v1"
            assert event.data["period"] == "2024-06-30"

            page = await analyst.get("/dashboard")
            assert page.status_code == 200 and "Fællesskabsvejvisning i tal" in page.text

            # Rebuild: drop the projections, replay the streams, get identical metrics.
            live_h1 = without_as_of(analytics.metrics(Period(*_dates(H1)), AS_OF))
            live_all = without_as_of(analytics.metrics(Period(), AS_OF))
            report = await replay.rebuild(runtime.db, nats_clean)
            assert report.events >= len(events)
            assert without_as_of(analytics.metrics(Period(*_dates(H1)), AS_OF)) == live_h1
            assert without_as_of(analytics.metrics(Period(), AS_OF)) == live_all

    # And into an empty database of its own: the same numbers again.
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    await replay.rebuild(fresh, nats_clean)
    with fresh.transaction() as session:
        rebuilt = compute(store.load_snapshot(session, AS_OF), Period(), AS_OF)
    fresh.dispose()
    assert without_as_of(rebuilt) == live_all


def _dates(params: dict[str, str]) -> tuple[Any, Any]:
    from datetime import date

    return date.fromisoformat(params["from"]), date.fromisoformat(params["to"])


async def test_demo_mode_snapshots_once_the_demo_events_have_arrived(nats_clean: str, tmp_path: Path) -> None:
    demo = settings(nats_clean, tmp_path / "demo.db").model_copy(update={"demo": True})
    async with ServedApp(build(demo)) as served, served.client(token("guide")) as guide:
        assert (await guide.get("/v1/snapshots")).json() == []
        await publish(nats_clean, *history())

        async def snapshots() -> list[Any]:
            return (await guide.get("/v1/snapshots")).json()  # type: ignore[no-any-return]

        [first] = await eventually(snapshots, timeout=30)
        assert first["label"].startswith("demo")
        page = await guide.get(f"/dashboard/{first['snapshot_id']}")
        assert page.status_code == 200 and "Tragten" in page.text
