"""Backbone throughput: Vejviser's publish path (outbox + relay) and consume path (pull
consumer + inbox) against the raw nats-py JetStream ceiling, measured in the same run.

    python -m bench.backbone [--events 50000] [--memory-events 200000] [--rounds 3] [--database-url URL]

Each path is measured in several rounds, each raw ceiling right before the path it bounds,
and the medians are reported: this machine is shared and one run can be 30 % off. Memory is
measured in a consumer process of its own. Writes bench/results/backbone[_postgresql].json and a
picture of both in bench/results/backbone[_postgresql].html.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import MetaData
from tqdm import tqdm

from shared.bus import ensure_streams, stream_name
from shared.db import make_engine
from shared.events import Envelope
from shared.events.referrals import ReferralCreated
from shared.inbox import batched
from shared.natsserver import NatsServer
from shared.runtime import Runtime
from shared.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
SUBJECT = "vejviser.referrals.ReferralCreated"


def envelope(i: int) -> Envelope:
    # ~1 KB on the wire, like a real referral with its optional fields filled.
    event = ReferralCreated(
        referral_id=f"r-{i:08d}-{uuid.uuid4().hex}",
        citizen_ref=f"c-{uuid.uuid4().hex}",
        community_id=f"k-{i % 500:04d}",
        referrer_id=f"a-{i % 300:04d}",
        needs_accompaniment=i % 3 == 0,
        channel="in_person",
    )
    env = Envelope.wrap(event, source="/services/referrals")
    pad = 1024 - len(env.to_json())
    return env.model_copy(update={"data": {**env.data, "note_ref": "x" * max(pad - 14, 0)}})


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


async def fresh_streams(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for info in await js.streams_info():
        await js.delete_stream(info.config.name)
    await ensure_streams(js)
    await nc.close()


async def raw_publish(url: str, payloads: list[tuple[str, bytes]]) -> float:
    await fresh_streams(url)
    nc = await nats.connect(url)
    js = nc.jetstream(publish_async_max_pending=4000)
    start = time.perf_counter()
    futures = []
    for msg_id, payload in tqdm(payloads, desc="raw publish", unit="ev", leave=False):
        futures.append(await js.publish_async(SUBJECT, payload, headers={"Nats-Msg-Id": msg_id}))
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    await nc.close()
    return len(payloads) / elapsed


async def raw_consume(url: str, count: int) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(SUBJECT, durable="raw-bench", stream=stream_name("referrals"))
    done = 0
    start = time.perf_counter()
    with tqdm(total=count, desc="raw consume", unit="ev", leave=False) as bar:
        while done < count:
            msgs = await sub.fetch(Settings().fetch_batch, timeout=5)  # the batch Vejviser fetches
            for m in msgs:
                await m.ack()
            done += len(msgs)
            bar.update(len(msgs))
    elapsed = time.perf_counter() - start
    await nc.close()
    return count / elapsed


async def vejviser_publish(url: str, db_url: str, envelopes: list[Envelope]) -> dict[str, float]:
    await fresh_streams(url)
    runtime = Runtime(Settings(service="referrals", database_url=db_url, nats_url=url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    start = time.perf_counter()
    for i in tqdm(range(0, len(envelopes), 1000), desc="stage in outbox", unit="tx", leave=False):
        with runtime.unit_of_work() as uow:
            uow.stage_envelopes(envelopes[i : i + 1000])
    staged = time.perf_counter()
    await runtime.broker.connect()
    from shared.outbox import OutboxRelay

    js = runtime.broker.connection.jetstream()
    relay = OutboxRelay(runtime.db, runtime.outbox, js, batch_size=runtime.settings.relay_batch)  # as services run it
    relay_start = time.perf_counter()
    with tqdm(total=len(envelopes), desc="relay", unit="ev", leave=False) as bar:
        while sent := await relay.relay_once():
            bar.update(sent)
    end = time.perf_counter()
    await runtime.broker.stop()
    runtime.db.dispose()
    n = len(envelopes)
    return {
        "relay_events_per_s": n / (end - relay_start),
        "end_to_end_events_per_s": n / (end - start),
        "stage_events_per_s": n / (staged - start),
    }


async def vejviser_consume(
    url: str, db_url: str, count: int, sample_every: int = 0, with_effect: bool = True
) -> dict[str, Any]:
    from sqlalchemy import Column, String, Table

    metadata = MetaData()
    effect = Table(
        "effect", metadata, Column("event_id", String(64), primary_key=True), Column("community_id", String(16))
    )

    processed = 0
    batches = 0

    # A projection-style bulk handler: one multi-row insert per run of events.
    @batched
    def handle(session: Any, pairs: list[tuple[Envelope, Any]]) -> None:
        session.execute(effect.insert(), [{"event_id": e.id, "community_id": ev.community_id} for e, ev in pairs])

    def counted() -> None:
        nonlocal batches
        batches += 1

    @batched
    def handle_and_count(session: Any, pairs: list[tuple[Envelope, Any]]) -> None:
        nonlocal processed
        if with_effect:  # without: the plumbing alone (inbox rows, commit, acks)
            handle.fn(session, pairs)
        processed += len(pairs)

    settings = Settings(
        service="analytics",
        database_url=db_url,
        nats_url=url,
    )
    runtime = Runtime(settings, metadata)
    runtime.consume("referrals", "bench", {ReferralCreated: handle_and_count}, after_batch=counted)
    samples: list[tuple[int, float]] = []
    await runtime.start()
    start = time.perf_counter()
    with tqdm(total=count, desc="vejviser consume", unit="ev", leave=False) as bar:
        seen = 0
        while processed < count:
            await asyncio.sleep(0.05)
            bar.update(processed - seen)
            seen = processed
            if sample_every:
                samples.append((processed, current_rss_mb()))
    elapsed = time.perf_counter() - start
    await runtime.stop()
    return {"events_per_s": count / elapsed, "rss_samples": samples, "mean_batch": count / max(batches, 1)}


async def fill(url: str, payloads: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream(publish_async_max_pending=4000)
    futures = [await js.publish_async(SUBJECT, p, headers={"Nats-Msg-Id": i}) for i, p in payloads]
    await asyncio.gather(*futures)
    await nc.close()


@dataclass
class Databases:
    """Where each measured path keeps its tables: a new SQLite file, or the one PostgreSQL
    database given with --database-url, emptied before each path."""

    tmp: Path
    url: str = ""

    @property
    def name(self) -> str:
        return "postgresql" if self.url else "sqlite"

    def fresh(self, name: str) -> str:
        if not self.url:
            return f"sqlite:///{self.tmp / f'{name}.db'}"
        engine = make_engine(self.url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS effect, inbox, outbox")
        engine.dispose()
        return self.url


async def one_round(
    url: str, dbs: Databases, r: int, envelopes: list[Envelope], payloads: list[tuple[str, bytes]]
) -> dict[str, float]:
    """Every path once, each raw ceiling measured right before the path it bounds."""
    events = len(envelopes)
    raw_pub = await raw_publish(url, payloads)
    ours_pub = await vejviser_publish(url, dbs.fresh(f"pub{r}"), envelopes)
    await fresh_streams(url)
    await fill(url, payloads)
    raw_con = await raw_consume(url, events)
    await fresh_streams(url)
    await fill(url, payloads)
    ours_con = await vejviser_consume(url, dbs.fresh(f"con{r}"), events)
    await fresh_streams(url)
    await fill(url, payloads)
    ours_bare = await vejviser_consume(url, dbs.fresh(f"bare{r}"), events, with_effect=False)
    return {
        "raw_publish": raw_pub,
        "relay": ours_pub["relay_events_per_s"],
        "stage_plus_relay": ours_pub["end_to_end_events_per_s"],
        "raw_consume": raw_con,
        "consume": ours_con["events_per_s"],
        "consume_no_effect": ours_bare["events_per_s"],
        "mean_batch": ours_con["mean_batch"],
    }


def path(rounds: list[dict[str, float]], raw: str, ours: str) -> dict[str, Any]:
    """Median rates and the median of the per-round ratios (this machine is shared and noisy)."""
    ratios = [r[ours] / r[raw] for r in rounds]
    return {
        "raw_ceiling_events_per_s": round(statistics.median(r[raw] for r in rounds)),
        "vejviser_events_per_s": round(statistics.median(r[ours] for r in rounds)),
        "ratio": round(statistics.median(ratios), 2),
        "ratio_per_round": [round(x, 2) for x in ratios],
    }


async def run(events: int, memory_events: int, rounds: int, database_url: str = "") -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="vejviser-bench-"))
    dbs = Databases(tmp, database_url)
    print(f"building {events:,} CloudEvents of ~1 KB …")
    envelopes = [envelope(i) for i in range(events)]
    payloads = [(e.id, e.to_json()) for e in envelopes]
    size = sum(len(p) for _, p in payloads) / len(payloads)
    with NatsServer(tmp / "nats") as server:
        url = server.url
        measured = []
        for r in tqdm(range(rounds), desc="rounds", unit="round"):
            measured.append(await one_round(url, dbs, r, envelopes, payloads))

        memory: dict[str, Any] = {}
        if memory_events:
            print(f"memory run: {memory_events:,} events through the consume path …")
            await fresh_streams(url)
            for i in tqdm(range(0, memory_events, events), desc="fill", unit="chunk", leave=False):
                chunk = [envelope(j) for j in range(i, min(i + events, memory_events))]
                await fill(url, [(e.id, e.to_json()) for e in chunk])
            mem = await asyncio.to_thread(memory_probe, url, dbs.fresh("mem"), memory_events)
            samples = [(int(n), float(mb)) for n, mb in mem["rss_samples"]]
            quarter = [s for s in samples if s[0] >= memory_events // 4]
            memory = {
                "events": memory_events,
                "events_per_s": round(mem["events_per_s"]),
                "rss_mb_at_25pct": round(quarter[0][1], 1) if quarter else None,
                "rss_mb_at_end": round(samples[-1][1], 1) if samples else None,
                "rss_mb_by_events": thin(samples, 10),
            }

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "events": events,
        "rounds": rounds,
        "mean_event_bytes": round(size),
        "publish_relay": path(measured, "raw_publish", "relay"),
        "publish_stage_plus_relay": path(measured, "raw_publish", "stage_plus_relay"),
        "consume": path(measured, "raw_consume", "consume"),
        "consume_no_effect": path(measured, "raw_consume", "consume_no_effect"),
        "mean_fetched_batch": round(statistics.median(r["mean_batch"] for r in measured)),
        "memory": memory,
        "database": dbs.name,
    }
    return result


def memory_probe(url: str, db_url: str, count: int) -> dict[str, Any]:
    """Consume `count` events in a process of their own, so its RSS is the consumer's alone
    and not this process's event lists (which would hide any growth)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.backbone", "--memory-probe", url, db_url, str(count)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def thin(samples: list[tuple[int, float]], points: int) -> list[tuple[int, float]]:
    """About `points` evenly spaced (events consumed, RSS MB) samples, the last one included."""
    if not samples:
        return []
    step = max(1, len(samples) // points)
    picked = samples[::step]
    if picked[-1] != samples[-1]:
        picked.append(samples[-1])
    return [(n, round(mb, 1)) for n, mb in picked]


PATHS = (  # key, label in the printed table, label in the picture (which has 200 px for it)
    ("publish_relay", "publish: relay from the outbox", "publish: relay"),
    ("publish_stage_plus_relay", "publish: stage + relay", "publish: stage + relay"),
    ("consume", "consume: pull + inbox + effect row", "consume: + effect row"),
    ("consume_no_effect", "consume: pull + inbox, no-op", "consume: no-op"),
)


def chart(result: dict[str, Any]) -> str:
    """The side-by-side throughputs and, if measured, RSS over the memory run, as one page."""
    from services.analytics.charts import line, paired_bars

    bars = paired_bars(
        f"events/s, {result['events']:,} CloudEvents of 1 KB ({result['machine']})",
        [
            (short, result[key]["raw_ceiling_events_per_s"], result[key]["vejviser_events_per_s"])
            for key, _label, short in PATHS
        ],
        ("raw nats-py", "Vejviser"),
    )
    ratios = ", ".join(f"{short} {result[key]['ratio']:.2f}" for key, _label, short in PATHS)
    rss = result["memory"].get("rss_mb_by_events") if result["memory"] else None
    memory = (
        f"<h3>Memory: RSS in MB by events consumed ({result['memory']['events']:,} events)</h3>"
        + line("RSS (MB) by events consumed", [(f"{n // 1000}k", mb) for n, mb in rss], percent=False)
        if rss
        else ""
    )
    return (
        '<html><head><meta charset="utf-8"><title>Vejviser backbone bench</title></head>'
        '<body style="max-width:760px;font-family:system-ui,sans-serif">'
        f"<h3>Events/s, raw nats-py against Vejviser in the same run ({result['when']})</h3>"
        f"<p>Median of {result['rounds']} rounds; ratios: {ratios}</p>"
        f"{bars}{memory}</body></html>\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--memory-events", type=int, default=200_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (emptied!) instead of SQLite files")
    parser.add_argument("--rounds", type=int, default=3, help="each path is measured this often; medians reported")
    parser.add_argument(
        "--memory-probe", nargs=3, metavar=("NATS_URL", "DATABASE_URL", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.memory_probe:
        url, db_url, count = args.memory_probe
        print(json.dumps(asyncio.run(vejviser_consume(url, db_url, int(count), sample_every=1))))
        return
    result = asyncio.run(run(args.events, args.memory_events, args.rounds, args.database_url))
    size = result["mean_event_bytes"]
    print(f"\nbackbone, {result['events']:,} events of ~{size} bytes, median of {args.rounds} rounds")
    print(f"{'path':<38}{'raw nats-py':>12}{'vejviser':>10}{'ratio':>7}  per round")
    for key, label, _short in PATHS:
        p = result[key]
        rounds = " ".join(f"{x:.2f}" for x in p["ratio_per_round"])
        raw, ours = p["raw_ceiling_events_per_s"], p["vejviser_events_per_s"]
        print(f"{label:<38}{raw:>12,}{ours:>10,}{p['ratio']:>7.2f}  {rounds}")
    if result["memory"]:
        m = result["memory"]
        print(
            f"memory of a consumer process over {m['events']:,} events: "
            f"RSS {m['rss_mb_at_25pct']} MB at 25% → {m['rss_mb_at_end']} MB at the end"
        )
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / ("backbone" if result["database"] == "sqlite" else f"backbone_{result['database']}")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".html").write_text(chart(result))
    print(f"wrote {stem}.json and {stem}.html")


if __name__ == "__main__":
    main()
