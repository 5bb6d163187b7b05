"""Notifications throughput: how fast the service decides (events through the real inbox and
rule code into referrals, timers, nudges, deliveries and outbox rows) and sends (the delivery
worker to a real SMTP server).

    .venv/bin/python bench/notifications_throughput.py [--referrals 2000] [--postgres-admin-url URL]

Deciding is printed beside its ceiling measured in the same run: the same events through the
same consume path (parse, inbox claim, one transaction per batch) with a handler that does
nothing; the median of three rounds, each on a fresh database with the ceiling measured right
before the path. Sending is bounded by SMTP and measured separately. Writes
bench/results/notifications_throughput_<database>.json. NATS is left out on purpose: this
measures the service's own cost per event; the bus has its own benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.notifications.channels import EmailChannel
from services.notifications.consumers import handlers
from services.notifications.service import Notifications
from services.notifications.service.deliver import Worker
from services.notifications.settings import NotificationSettings
from services.notifications.store import Base
from shared import heap
from shared.clock import FakeClock
from shared.db import scratch_database
from shared.events import Envelope
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.inbox import Pair, batched, process_batch
from shared.natsserver import free_port
from shared.profile import profile
from shared.runtime import Runtime, Subscription

START = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # office hours: nothing held back


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def envelopes(referrals: int) -> dict[str, list[bytes]]:
    """The events of each stream: 50 communities, 100 professionals, then the referrals."""
    wrap = Envelope.wrap
    areas = profile().area.codes
    catalogue = [
        wrap(
            cat.CommunityRegistered(
                community_id=f"c-{i}",
                organization_id="o",
                name=f"Fællesskab {i}",
                categories=[],
                area=areas[i % len(areas)],
                kind="permanent",
                accepts_special_needs=True,
                contact=cat.WelcomeContact(email=f"kontakt{i}@example.dk"),
            ),
            source="/services/catalogue",
            time=START,
        ).to_json()
        for i in range(50)
    ]
    out = [
        wrap(
            ref.ReferrerActivated(
                actor_id=f"prof-{i}",
                role="professional",
                area=areas[i % len(areas)],
                contact=ref.WorkContact(email=f"prof{i}@example.dk"),
            ),
            source="/services/referrals",
            time=START,
        ).to_json()
        for i in range(100)
    ]
    out += [
        wrap(
            ref.ReferralCreated(
                referral_id=f"r-{i}",
                citizen_ref=f"cit-{i}",
                community_id=f"c-{i % 50}",
                referrer_id=f"prof-{i % 100}",
                needs_accompaniment=i % 3 == 0,
            ),
            source="/services/referrals",
            time=START,
        ).to_json()
        for i in range(referrals)
    ]
    return {"catalogue": catalogue, "referrals": out}


def no_op(session: Session, pairs: list[Pair]) -> None:
    """The ceiling's handler: the consume path without the service's own work."""


def consume(
    runtime: Runtime, subscriptions: tuple[Subscription, ...], streams: dict[str, list[bytes]], batch: int, prefix: str
) -> float:
    """Seconds to take every stream (catalogue first) through the inbox in batches, as the
    consumers do."""
    by_context = {sub.context: sub for sub in subscriptions}
    started = time.perf_counter()
    for context, bodies in streams.items():
        sub = by_context[context]
        for i in range(0, len(bodies), batch):
            chunk = bodies[i : i + batch]
            outcomes = process_batch(runtime.db, runtime.inbox, f"{prefix}-{sub.name}", chunk, sub.handlers)
            assert all(o.status == "processed" for o in outcomes), outcomes
    return time.perf_counter() - started


@contextlib.contextmanager
def fresh_database(tmp: Path, postgres_admin_url: str, name: str) -> Iterator[str]:
    """A new SQLite file, or a new PostgreSQL database created (and dropped) through the server."""
    if not postgres_admin_url:
        yield f"sqlite:///{tmp / f'{name}.db'}"
        return
    with scratch_database(postgres_admin_url, f"vejviser_bench_{uuid.uuid4().hex[:8]}") as url:
        yield url


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds, each on a fresh database")
    parser.add_argument(
        "--postgres-admin-url",
        default="",
        help="run on fresh PostgreSQL databases created (and dropped) through this server",
    )
    args = parser.parse_args()
    heap.settle()  # as a started service does (shared/app.py), before the inputs exist

    tmp = Path(tempfile.mkdtemp())
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    streams = envelopes(args.referrals)
    events = sum(len(bodies) for bodies in streams.values())
    nothing = batched(no_op)
    rounds: list[tuple[float, float]] = []  # (ceiling, deciding) seconds
    for number in range(args.rounds):
        with fresh_database(tmp, args.postgres_admin_url, f"round{number}") as database_url:
            settings = NotificationSettings(
                database_url=database_url, smtp_port=port, nats_url="nats://127.0.0.1:1", daily_cap=10**6
            )
            runtime = Runtime(settings, Base.metadata, clock=FakeClock(START))
            runtime.db.create_schema(Base.metadata)
            service = Notifications(runtime, settings)
            subscriptions = handlers(service)
            ceilings = tuple(Subscription(s.context, s.name, dict.fromkeys(s.handlers, nothing)) for s in subscriptions)
            # The ceiling and the path side by side in each round, so both see the same machine.
            ceiling = consume(runtime, ceilings, streams, args.batch, "ceiling")
            rounds.append((ceiling, consume(runtime, subscriptions, streams, args.batch, "bench")))
            if number < args.rounds - 1:
                runtime.db.dispose()
                continue
            with runtime.db.transaction() as session:
                counts = {
                    table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in ("referral", "timer", "nudge", "delivery", "outbox")
                }
            worker = Worker(service, {"email": EmailChannel(settings)})
            started = time.perf_counter()
            sent = 0
            while batch := await worker.deliver_due():
                sent += batch
            send_seconds = time.perf_counter() - started
            runtime.db.dispose()
    controller.stop()
    decide_seconds = statistics.median(deciding for _, deciding in rounds)
    ceiling_seconds = statistics.median(ceiling for ceiling, _ in rounds)

    result = {
        "benchmark": "notifications_throughput",
        "database": runtime.db.engine.dialect.name,
        "events": events,
        "referrals": args.referrals,
        "batch": args.batch,
        "rounds": args.rounds,
        "events_per_second_per_round": [round(events / deciding, 1) for _, deciding in rounds],
        "decide_seconds": round(decide_seconds, 3),
        "events_per_second": round(events / decide_seconds, 1),
        "ceiling_seconds": round(ceiling_seconds, 3),
        "ceiling_events_per_second": round(events / ceiling_seconds, 1),
        "share_of_ceiling": round(ceiling_seconds / decide_seconds, 2),
        "rows": counts,
        "mails_sent": sent,
        "mails_received": counter.count,
        "send_seconds": round(send_seconds, 3),
        "mails_per_second": round(sent / send_seconds, 1) if send_seconds else None,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    out = Path(__file__).parent / "results" / f"notifications_throughput_{result['database']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"{result['database']}: deciding {result['events_per_second']:,.0f} events/s "
        f"beside a ceiling of {result['ceiling_events_per_second']:,.0f} events/s (no-op handler, same path); "
        f"sending {result['mails_per_second']} mails/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
