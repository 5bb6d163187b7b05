"""`GET /dashboard` only reads: before the first snapshot it says, in Danish, when the nightly
one is due, and takes none itself (no snapshot row, no outbox row, no event)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.analytics import store
from services.analytics.domain import next_run
from services.analytics.main import build
from services.analytics.settings import AnalyticsSettings
from shared.clock import local
from shared.profile import profile
from tests.helpers import ServedApp, stream_events, token

CRON = "0 2 * * *"


def shown(moment: datetime) -> str:
    return local(next_run(CRON, moment)).strftime("%d.%m.%Y kl. %H:%M")


async def test_dashboard_before_the_first_snapshot_writes_nothing(nats_clean: str, tmp_path: Path) -> None:
    settings = AnalyticsSettings(
        database_url=f"sqlite:///{tmp_path / 'empty.db'}",
        nats_url=nats_clean,
        relay_interval_seconds=0.05,
        nightly_cron=CRON,
    )
    app = build(settings)
    async with ServedApp(app) as served, served.client(token("analyst")) as analyst:
        before = shown(datetime.now(UTC))
        page = await analyst.get("/dashboard")
        after = shown(datetime.now(UTC))
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "Intet øjebliksbillede endnu" in page.text
        assert before in page.text or after in page.text  # the next nightly run, Copenhagen time
        assert profile().programme in page.text

        runtime = served.runtime

        def rows(session: Session) -> tuple[int | None, int | None]:
            snapshots = session.scalar(select(func.count()).select_from(store.MetricsSnapshot))
            outbox = session.scalar(select(func.count()).select_from(runtime.outbox.table))
            return snapshots, outbox

        assert runtime.read(rows) == (0, 0)
        await asyncio.sleep(0.3)  # several relay ticks: anything staged would be on its way
    assert await stream_events(nats_clean, "analytics") == []
