"""Referrals benchmark: ingestion throughput of back-dated referral chains (the code path of
`POST /v1/events` without HTTP: parse, domain rules, state change, outbox, inbox) and the
cost of ranking companions.

    .venv/bin/python bench/referrals_ingest.py [--chains 500] [--database-url URL]

Writes bench/results/referrals_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.referrals.consumers import on_registered
from services.referrals.crypto import CitizenVault, master_key_from_setting
from services.referrals.domain import CompanionCandidate, CompanionNeed, rank_companions
from services.referrals.handlers import Applier
from services.referrals.settings import ReferralsSettings
from services.referrals.store import Base
from shared.events import Envelope, Event
from shared.events.catalogue import CommunityRegistered
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenRegistered,
    ReferralCreated,
    ReferrerActivated,
    WelcomeConfirmed,
)
from shared.ingest import _parse_one, ingest
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def chain(n: int) -> list[dict[str, object]]:
    start = T0 + timedelta(hours=n)

    def ce(event: Event, hours: float) -> dict[str, object]:
        return Envelope.wrap(event, source="/systems/bench", time=start + timedelta(hours=hours)).to_dict()

    rid, ref, actor = f"r-{n}", f"c-{n}", f"amb-{n}"
    return [
        ce(ReferrerActivated(actor_id=actor, role="ambassador", activated_by="guide-0", offers_accompaniment=True), 0),
        ce(CitizenRegistered(citizen_ref=ref, age_band="25-34", target_groups=["newcomer"]), 1),
        ce(ReferralCreated(referral_id=rid, citizen_ref=ref, community_id="c-1", referrer_id=actor), 2),
        ce(AccompanimentArranged(referral_id=rid, companion_id=actor), 3),
        ce(CitizenAccompanied(referral_id=rid, companion_id=actor), 4),
        ce(WelcomeConfirmed(referral_id=rid, community_id="c-1", confirmed_by="bench"), 5),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chains", type=int, default=500)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    settings = ReferralsSettings(database_url=url, nats_url="nats://127.0.0.1:1")
    runtime = Runtime(settings, Base.metadata)
    runtime.db.create_schema(Base.metadata)
    vault = CitizenVault(master_key_from_setting("", settings.token_secret))
    applier = Applier(vault)

    with runtime.db.transaction() as session:
        event = CommunityRegistered(
            community_id="c-1", organization_id="o", name="Bench", categories=["social"], area="A",
            kind="permanent", accepts_special_needs=True,
        )  # fmt: skip
        on_registered(session, Envelope.wrap(event, source="/bench", time=T0 - timedelta(days=1)), event)
        guide = ReferrerActivated(actor_id="guide-0", role="guide")
        applier.apply(session, Envelope.wrap(guide, source="/bench", time=T0 - timedelta(days=1)), guide)

    raw = [e for n in range(args.chains) for e in chain(n)]
    batch_seconds: list[float] = []
    started = time.perf_counter()
    accepted = 0
    for i in range(0, len(raw), args.batch):
        t = time.perf_counter()
        results = ingest(runtime, [_parse_one(e) for e in raw[i : i + args.batch]], applier.apply, "referrals")
        batch_seconds.append(time.perf_counter() - t)
        accepted += sum(r.status == "accepted" for r in results)
    elapsed = time.perf_counter() - started
    t = time.perf_counter()
    again = ingest(runtime, [_parse_one(e) for e in raw[: args.batch]], applier.apply, "referrals")
    duplicate_seconds = time.perf_counter() - t
    runtime.db.dispose()

    rng = random.Random(1)
    candidates = [
        CompanionCandidate(
            f"a{i}",
            rng.choice("ABCDE"),
            frozenset(rng.sample(["da", "ar", "so", "en"], 2)),
            frozenset(rng.sample(["social", "crafts", "music", "sport", "food"], 2)),
            rng.randint(0, 4),
        )
        for i in range(1000)
    ]
    need = CompanionNeed("A", frozenset({"crafts", "social"}), "B", frozenset({"ar"}))
    t = time.perf_counter()
    for _ in range(20):
        rank_companions(candidates, need)
    rank_ms = (time.perf_counter() - t) / 20 * 1000

    result = {
        "benchmark": "referrals_ingest",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "system": platform.platform()},
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "events": len(raw),
        "accepted": accepted,
        "batch_size": args.batch,
        "events_per_second": round(len(raw) / elapsed, 1),
        "batch_seconds_median": round(statistics.median(batch_seconds), 4),
        "duplicate_batch_seconds": round(duplicate_seconds, 4),
        "duplicates_detected": sum(r.status == "duplicate" for r in again),
        "rank_1000_companions_ms": round(rank_ms, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if result["database"] == "sqlite" else "_postgresql"
    (RESULTS / f"referrals_ingest{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
