"""Analytics at scale: rebuild throughput and metric time for 100,000 and 1,000,000 referrals.

    python -m bench.analytics_scale            # 100k through a real nats-server, then 1M direct
    python -m bench.analytics_scale --quick    # 100k only

For each size: a synthetic cascade (services.analytics.synth). For 100k it is published to a
real nats-server; the rebuild replays it through the same projection code as the live
consumers (events/s), beside the ceiling (the same reader doing nothing but read). For 1M it
is written straight into the projections. `GET /v1/metrics`' work (load the projections and
compute every metric) is timed in fresh child processes (three; the median is reported), whose
peak RSS is the memory figure.
Results: bench/results/analytics.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

RESULTS = Path(__file__).resolve().parent / "results" / "analytics.json"


def measure_metrics(database_url: str) -> dict[str, Any]:
    """Child-process body: time the service layer's metric computation, report peak RSS."""
    from services.analytics import store
    from services.analytics.domain import Period
    from services.analytics.service import Analytics
    from services.analytics.settings import AnalyticsSettings
    from shared.runtime import Runtime

    # Not `main.analytics_for`: importing the app (routes, templates) would add its memory to
    # the figure, which is meant to be the metric work's.
    settings = AnalyticsSettings(database_url=database_url)
    analytics = Analytics(Runtime(settings, store.Base.metadata), settings.nightly_cron)
    started = time.perf_counter()
    metrics = analytics.metrics(Period())
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "metrics_seconds": round(seconds, 3),
        "peak_rss_mb": round(peak_mb, 1),
        "referrals": metrics["referrals"]["created"],
        "welcomed": metrics["referrals"]["welcomed"],
    }


def metrics_in_child(database_url: str, runs: int = 3) -> dict[str, Any]:
    """`runs` fresh child processes (the machine is shared: one number can be an outlier);
    reports the median time, every time, and the highest peak RSS."""
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-m", "bench.analytics_scale", "--child", database_url],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    seconds = sorted(r["metrics_seconds"] for r in results)
    return {
        **results[0],
        "metrics_seconds": seconds[len(seconds) // 2],
        "metrics_seconds_runs": seconds,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


async def through_nats(referrals: int, work: Path) -> dict[str, Any]:
    from services.analytics import replay
    from services.analytics.cli import publish
    from shared.db import Database
    from shared.natsserver import NatsServer

    with NatsServer(work / "nats") as server:
        started = time.perf_counter()
        events = await publish(server.url, referrals)
        published = time.perf_counter() - started
        ceiling = await replay.read_rate(server.url)
        url = f"sqlite:///{work / f'rebuild-{referrals}.db'}"
        db = Database(url)
        bar = tqdm(total=events, unit="ev", unit_scale=True, desc=f"rebuild {referrals:,}")
        report = await replay.rebuild(db, server.url, progress=bar.update)
        bar.close()
        db.dispose()
    result = {
        "referrals": referrals,
        "events": events,
        "publish_events_per_s": round(events / published),
        "read_ceiling_events_per_s": round(ceiling.per_second),
        "rebuild_events": report.events,
        "rebuild_seconds": round(report.seconds, 2),
        "rebuild_events_per_s": round(report.per_second),
        "rebuild_to_ceiling_ratio": round(report.per_second / ceiling.per_second, 3),
        "database": "sqlite",
    }
    result.update(metrics_in_child(url))
    return result


def direct(referrals: int, work: Path) -> dict[str, Any]:
    from services.analytics.cli import write_direct
    from shared.db import Database

    url = f"sqlite:///{work / f'direct-{referrals}.db'}"
    db = Database(url)
    started = time.perf_counter()
    events = write_direct(db, referrals)
    seconds = time.perf_counter() - started
    db.dispose()
    result = {
        "referrals": referrals,
        "events": events,
        "projection_write_seconds": round(seconds, 1),
        "projection_write_events_per_s": round(events / seconds),
        "database": "sqlite",
        "path": "generator straight into the projections (same Changes/upsert.write code)",
    }
    result.update(metrics_in_child(url))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 referrals only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_metrics(args.child)))
        return
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
        },
        "targets": {"rebuild_events_per_s": 20_000, "metrics_seconds_1m": 5.0, "peak_memory_mb": 2048},
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="vejviser-bench-") as tmp:
        work = Path(tmp)
        results["runs"].append(asyncio.run(through_nats(100_000, work)))
        print(json.dumps(results["runs"][-1], indent=2))
        if not args.quick:
            results["runs"].append(direct(1_000_000, work))
            print(json.dumps(results["runs"][-1], indent=2))
    if args.quick and RESULTS.exists():
        # Keep an earlier full run's 1M figures beside the fresh 100k ones.
        earlier = [r for r in json.loads(RESULTS.read_text()).get("runs", []) if r["referrals"] != 100_000]
        results["runs"] += earlier
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
