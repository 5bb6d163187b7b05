"""Referrals benchmark: ingestion throughput of back-dated referral chains (the code path of
`POST /v1/events` without HTTP: parse, the ids a batch names loaded at once, domain rules,
state changes, outbox, inbox) beside its ceiling (the same path with an apply that does
nothing: parse, claim, outbox), and the cost of ranking companions.

    .venv/bin/python bench/referrals_ingest.py [--chains 500] [--database-url URL]

Writes bench/results/referrals_ingest.json (or referrals_ingest_postgresql.json).
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

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from services.referrals.companions import CompanionCandidate, CompanionNeed, rank_companions
from services.referrals.crypto import vault_from_settings
from services.referrals.service import ReferralsService
from services.referrals.service.communities import on_registered
from services.referrals.settings import ReferralsSettings
from services.referrals.tables import Base
from shared import heap
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
from shared.inbox import AnyHandler, batched
from shared.ingest import ingest
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def chain(n: int) -> list[dict[str, object]]:
    start = T0 + timedelta(hours=n)

    def ce(event: Event, hours: float) -> dict[str, object]:
        envelope = Envelope.wrap(event, source="/systems/bench", time=start + timedelta(hours=hours))
        return {**envelope.to_dict(), "consentdate": "2024-01-01"}  # ingestion needs stated consent

    rid, ref, actor = f"r-{n}", f"c-{n}", f"amb-{n}"
    return [
        ce(ReferrerActivated(actor_id=actor, role="ambassador", activated_by="guide-0", offers_accompaniment=True), 0),
        ce(CitizenRegistered(citizen_ref=ref, age_band="25-34", area="vestervang", target_groups=["newcomer"]), 1),
        ce(ReferralCreated(referral_id=rid, citizen_ref=ref, community_id="c-1", referrer_id=actor), 2),
        ce(AccompanimentArranged(referral_id=rid, companion_id=actor), 3),
        ce(CitizenAccompanied(referral_id=rid, companion_id=actor), 4),
        ce(WelcomeConfirmed(referral_id=rid, community_id="c-1", confirmed_by="bench"), 5),
    ]


def ignore(_session: Session, _envelope: Envelope, _event: Event) -> None:
    """The ceiling's apply: the ingestion path without the referrals service's own work."""


def run(url: str, raw: list[dict[str, object]], batch: int, apply: AnyHandler | None) -> dict[str, float]:
    """Ingest `raw` in batches into a fresh schema at `url`; `apply` None means the service's."""
    settings = ReferralsSettings(database_url=url, nats_url="nats://127.0.0.1:1")
    runtime = Runtime(settings, Base.metadata)
    everything = MetaData()  # the service's tables and the migrations' version table
    everything.reflect(runtime.db.engine)
    everything.drop_all(runtime.db.engine)
    runtime.db.create_schema(Base.metadata)
    vault = vault_from_settings(settings)
    vault.open()  # as main.py does at start-up: the key store's schema is not the batches' cost
    service = ReferralsService(runtime, settings, vault)
    with runtime.unit_of_work() as uow:
        event = CommunityRegistered(
            community_id="c-1", organization_id="o", name="Bench", categories=["social"], area="vestervang",
            kind="permanent", accepts_special_needs=True,
        )  # fmt: skip
        on_registered(uow.session, Envelope.wrap(event, source="/bench", time=T0 - timedelta(days=1)), event)
        guide = ReferrerActivated(actor_id="guide-0", role="guide")
        service.appliers.apply(uow.session, Envelope.wrap(guide, source="/bench", time=T0 - timedelta(days=1)), guide)
    applying = apply or batched(service.appliers.apply_all)  # as main.py wires it

    def post(chunk: list[dict[str, object]]) -> list[str]:
        return [r.status for r in ingest(runtime, chunk, applying, "referrals")]  # as the endpoint does

    batch_seconds: list[float] = []
    accepted = 0
    started = time.perf_counter()
    for i in range(0, len(raw), batch):
        t = time.perf_counter()
        accepted += post(raw[i : i + batch]).count("accepted")
        batch_seconds.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    t = time.perf_counter()
    duplicates = post(raw[:batch]).count("duplicate")
    duplicate_seconds = time.perf_counter() - t
    runtime.db.dispose()
    vault.close()
    return {
        "events_per_second": round(len(raw) / elapsed, 1),
        "accepted": accepted,
        "batch_seconds_median": round(statistics.median(batch_seconds), 4),
        "duplicate_batch_seconds": round(duplicate_seconds, 4),
        "duplicates_detected": duplicates,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chains", type=int, default=500)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds of each")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    heap.settle()  # as a started service does (shared/app.py), before the inputs exist
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    raw = [e for n in range(args.chains) for e in chain(n)]
    # Each round measures the path and its ceiling side by side, so both see the same machine.
    paths, ceilings = [], []
    for _ in range(args.rounds):
        paths.append(run(url, raw, args.batch, None))
        ceilings.append(run(url, raw, args.batch, ignore))
    path = sorted(paths, key=lambda r: r["events_per_second"])[len(paths) // 2]
    ceiling = statistics.median(r["events_per_second"] for r in ceilings)

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
        "batch_size": args.batch,
        "rounds": args.rounds,
        **path,
        "ceiling_events_per_second": round(ceiling, 1),
        "share_of_ceiling": round(path["events_per_second"] / ceiling, 2),
        "rank_1000_companions_ms": round(rank_ms, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if result["database"] == "sqlite" else "_postgresql"
    (RESULTS / f"referrals_ingest{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
