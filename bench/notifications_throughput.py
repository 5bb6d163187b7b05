"""Notifications throughput: how fast the service decides (events through the real inbox and
rule code into nudge and delivery rows) and sends (the delivery worker to a real SMTP server).

    .venv/bin/python bench/notifications_throughput.py [--referrals 2000] [--postgres-admin-url URL]

Writes bench/results/notifications_throughput_<database>.json. NATS is left out on purpose: this
measures the service's own cost per event; the bus has its own benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller

from services.notifications.channels import EmailChannel
from services.notifications.clock import FakeClock
from services.notifications.consumers import Consumers
from services.notifications.engine import Engine
from services.notifications.settings import NotificationSettings
from services.notifications.store import Base
from services.notifications.worker import Worker
from shared.events import Envelope
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.inbox import process_batch
from shared.natsserver import free_port
from shared.runtime import Runtime

START = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # office hours: nothing held back


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def envelopes(referrals: int) -> list[bytes]:
    wrap = Envelope.wrap
    out = [
        wrap(
            cat.CommunityRegistered(
                community_id=f"c-{i}",
                organization_id="o",
                name=f"Fællesskab {i}",
                categories=[],
                area="Ringsted",
                kind="permanent",
                accepts_special_needs=True,
                contact=cat.WelcomeContact(email=f"kontakt{i}@example.dk"),
            ),
            source="/services/catalogue",
            time=START,
        ).to_json()
        for i in range(50)
    ]
    out += [
        wrap(
            ref.ReferrerActivated(
                actor_id=f"prof-{i}",
                role="professional",
                area="Ringsted",
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
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument(
        "--postgres-admin-url",
        default="",
        help="run on a fresh PostgreSQL database created (and dropped) through this server",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    database_url = f"sqlite:///{tmp / 'bench.db'}"
    scratch = None
    if args.postgres_admin_url:
        import uuid

        import psycopg

        scratch = f"vejviser_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        database_url = f"{args.postgres_admin_url.rpartition('/')[0]}/{scratch}"
    settings = NotificationSettings(
        database_url=database_url, smtp_port=port, nats_url="nats://127.0.0.1:1", daily_cap=10**6
    )
    runtime = Runtime(settings, Base.metadata)
    runtime.db.create_schema(Base.metadata)
    clock = FakeClock(START)
    engine = Engine(settings, clock, lambda session, event: runtime.stage(session, event))
    consumers = Consumers(engine)
    handlers = {**consumers.catalogue_handlers(), **consumers.referral_handlers()}
    bodies = envelopes(args.referrals)

    started = time.perf_counter()
    for i in range(0, len(bodies), args.batch):
        process_batch(runtime.db, runtime.inbox, "bench", bodies[i : i + args.batch], handlers)
    decide_seconds = time.perf_counter() - started

    worker = Worker(runtime, engine, {"email": EmailChannel(settings)})
    started = time.perf_counter()
    sent = 0
    while batch := await worker.deliver_due():
        sent += batch
    send_seconds = time.perf_counter() - started
    controller.stop()
    runtime.db.dispose()
    if scratch:
        with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')

    result = {
        "benchmark": "notifications_throughput",
        "database": runtime.db.engine.dialect.name,
        "events": len(bodies),
        "referrals": args.referrals,
        "decide_seconds": round(decide_seconds, 3),
        "events_per_second": round(len(bodies) / decide_seconds, 1),
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


if __name__ == "__main__":
    asyncio.run(main())
