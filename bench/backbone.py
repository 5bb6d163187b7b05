"""Backbone throughput: Vejviser's publish path (outbox + relay) and consume path (pull
consumer + inbox) against the raw nats-py JetStream ceiling, measured in the same run.

    python -m bench.backbone [--events 50000] [--memory-events 200000]

Writes bench/results/backbone.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import MetaData
from tqdm import tqdm

from shared.bus import ensure_streams, stream_name
from shared.events import Envelope
from shared.events.referrals import ReferralCreated
from shared.inbox import batched
from shared.natsserver import NatsServer
from shared.runtime import Runtime
from shared.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "backbone.json"
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


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
            msgs = await sub.fetch(256, timeout=5)
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
        with runtime.db.transaction() as session:
            runtime.stage_envelopes(session, envelopes[i : i + 1000])
    staged = time.perf_counter()
    await runtime.broker.connect()
    from shared.outbox import OutboxRelay

    relay = OutboxRelay(runtime.db, runtime.outbox, runtime.broker.connection.jetstream(), batch_size=2000)
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

    settings = Settings(service="analytics", database_url=db_url, nats_url=url, )
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


async def run(events: int, memory_events: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="vejviser-bench-"))
    print(f"building {events:,} CloudEvents of ~1 KB …")
    envelopes = [envelope(i) for i in range(events)]
    payloads = [(e.id, e.to_json()) for e in envelopes]
    size = sum(len(p) for _, p in payloads) / len(payloads)
    with NatsServer(tmp / "nats") as server:
        url = server.url
        raw_pub = await raw_publish(url, payloads)
        raw_con = await raw_consume(url, events)
        ours_pub = await vejviser_publish(url, f"sqlite:///{tmp / 'pub.db'}", envelopes)
        await fresh_streams(url)
        await fill(url, payloads)
        ours_con = await vejviser_consume(url, f"sqlite:///{tmp / 'con.db'}", events)
        await fresh_streams(url)
        await fill(url, payloads)
        ours_bare = await vejviser_consume(url, f"sqlite:///{tmp / 'bare.db'}", events, with_effect=False)

        memory: dict[str, Any] = {}
        if memory_events:
            print(f"memory run: {memory_events:,} events through the consume path …")
            await fresh_streams(url)
            for i in tqdm(range(0, memory_events, events), desc="fill", unit="chunk", leave=False):
                chunk = [envelope(j) for j in range(i, min(i + events, memory_events))]
                await fill(url, [(e.id, e.to_json()) for e in chunk])
            mem = await vejviser_consume(url, f"sqlite:///{tmp / 'mem.db'}", memory_events, sample_every=1)
            samples = mem["rss_samples"]
            quarter = [s for s in samples if s[0] >= memory_events // 4]
            memory = {
                "events": memory_events,
                "events_per_s": round(mem["events_per_s"]),
                "rss_mb_at_25pct": round(quarter[0][1], 1) if quarter else None,
                "rss_mb_at_end": round(samples[-1][1], 1) if samples else None,
            }

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "events": events,
        "mean_event_bytes": round(size),
        "publish": {
            "raw_ceiling_events_per_s": round(raw_pub),
            "vejviser_relay_events_per_s": round(ours_pub["relay_events_per_s"]),
            "ratio": round(ours_pub["relay_events_per_s"] / raw_pub, 2),
            "vejviser_stage_plus_relay_events_per_s": round(ours_pub["end_to_end_events_per_s"]),
            "ratio_stage_plus_relay": round(ours_pub["end_to_end_events_per_s"] / raw_pub, 2),
        },
        "consume": {
            "raw_ceiling_events_per_s": round(raw_con),
            "vejviser_inbox_events_per_s": round(ours_con["events_per_s"]),
            "ratio": round(ours_con["events_per_s"] / raw_con, 2),
            "mean_fetched_batch": round(ours_con["mean_batch"]),
            "vejviser_inbox_no_effect_events_per_s": round(ours_bare["events_per_s"]),
            "ratio_no_effect": round(ours_bare["events_per_s"] / raw_con, 2),
        },
        "memory": memory,
        "database": "SQLite (the development default)",
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--memory-events", type=int, default=200_000)
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.memory_events))
    pub, con = result["publish"], result["consume"]
    print(f"\nbackbone, {result['events']:,} events of ~{result['mean_event_bytes']} bytes")
    print(f"{'path':<34}{'raw nats-py':>14}{'vejviser':>12}{'ratio':>8}")
    print(
        f"{'publish (relay from outbox)':<34}{pub['raw_ceiling_events_per_s']:>14,}"
        f"{pub['vejviser_relay_events_per_s']:>12,}{pub['ratio']:>8.2f}"
    )
    print(
        f"{'publish (stage + relay)':<34}{pub['raw_ceiling_events_per_s']:>14,}"
        f"{pub['vejviser_stage_plus_relay_events_per_s']:>12,}{pub['ratio_stage_plus_relay']:>8.2f}"
    )
    print(
        f"{'consume (pull + inbox + effect)':<34}{con['raw_ceiling_events_per_s']:>14,}"
        f"{con['vejviser_inbox_events_per_s']:>12,}{con['ratio']:>8.2f}"
    )
    print(
        f"{'consume (pull + inbox, no effect)':<34}{con['raw_ceiling_events_per_s']:>14,}"
        f"{con['vejviser_inbox_no_effect_events_per_s']:>12,}{con['ratio_no_effect']:>8.2f}"
    )
    if result["memory"]:
        m = result["memory"]
        print(
            f"memory over {m['events']:,} consumed events: "
            f"RSS {m['rss_mb_at_25pct']} MB at 25% → {m['rss_mb_at_end']} MB at the end"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
