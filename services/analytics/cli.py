"""Operator commands, mounted as `vejviser analytics ...`: rebuild, nightly, synth."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from tqdm import tqdm

from services.analytics import replay, service, store, synth, upsert
from services.analytics.main import analytics_for
from services.analytics.projection import Changes
from services.analytics.settings import AnalyticsSettings
from shared.db import Database

app = typer.Typer(
    help="Analytics: rebuild projections, take a snapshot, generate synthetic data.", no_args_is_help=True
)


@app.command()
def rebuild() -> None:
    """Drop the projections and replay every stream from the start (uses DATABASE_URL, NATS_URL)."""
    settings = AnalyticsSettings()
    db = Database(settings.database_url)
    bar = tqdm(unit="ev", desc="rebuild", unit_scale=True)

    def total(n: int) -> None:
        bar.total = n
        bar.refresh()

    try:
        report = asyncio.run(replay.rebuild(db, settings.nats_url, progress=bar.update, total=total))
    finally:
        bar.close()
        db.dispose()
    typer.echo(
        f"replayed {report.events} events in {report.seconds:.1f} s ({report.per_second:,.0f} events/s)"
        + (f"; {report.skipped} unreadable events skipped" if report.skipped else "")
    )


@app.command()
def nightly() -> None:
    """Take one snapshot now (yesterday, last 30 days, all time) and publish it."""

    async def run() -> str:
        runtime = analytics_for(AnalyticsSettings()).runtime
        await runtime.start()
        try:
            snapshot_id = await asyncio.to_thread(service.take_snapshot, runtime, None, "manual")
            if runtime.relay is not None:
                await runtime.relay.drain()  # publish MetricsSnapshotPublished before exiting
            return snapshot_id
        finally:
            await runtime.stop()

    typer.echo(f"snapshot {asyncio.run(run())} stored")


@app.command("synth")
def synth_command(
    referrals: Annotated[int, typer.Option("--referrals", min=1, help="how many referrals to generate")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same events)")] = 1,
    direct: Annotated[
        bool, typer.Option("--direct", help="write straight into the projections, not the streams")
    ] = False,
) -> None:
    """Generate a synthetic cascade: events into the streams (default) or into the projections."""
    settings = AnalyticsSettings()
    started = time.perf_counter()
    if direct:
        count = write_direct(Database(settings.database_url), referrals, seed)
    else:
        count = asyncio.run(publish(settings.nats_url, referrals, seed))
    typer.echo(f"{count} events in {time.perf_counter() - started:.1f} s")


def write_direct(db: Database, referrals: int, seed: int = 1, batch: int = 50_000, progress: bool = True) -> int:
    db.create_schema(store.Base.metadata)
    count = 0
    changes = Changes()
    bar = tqdm(unit="ev", desc="synth → projections", unit_scale=True, disable=not progress)
    for item in synth.generate(referrals, seed):
        synth.add_to(changes, item)
        count += 1
        if changes.events >= batch:
            upsert.apply(db, changes)
            bar.update(changes.events)
            changes = Changes()
    upsert.apply(db, changes)
    bar.update(changes.events)
    bar.close()
    return count


async def publish(nats_url: str, referrals: int, seed: int = 1, progress: bool = True) -> int:
    """Publish the generated events to their streams, many in flight, each PubAck checked."""
    from shared.bus import MSG_ID, ensure_streams
    from shared.nats_auth import operator_connect

    nc = await operator_connect(nats_url)  # it publishes on every context: the operator's work
    js = nc.jetstream(publish_async_max_pending=4000)
    await ensure_streams(js)
    count = 0
    pending = []
    bar = tqdm(unit="ev", desc="synth → streams", unit_scale=True, disable=not progress)
    try:
        for item in synth.generate(referrals, seed):
            model = item[2]
            pending.append(
                await js.publish_async(model.nats_subject(), synth.as_cloudevent(item), headers={MSG_ID: item[0]})
            )
            count += 1
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                bar.update(len(pending))
                pending = []
        await asyncio.gather(*pending)
        bar.update(len(pending))
    finally:
        bar.close()
        await nc.close()
    return count
