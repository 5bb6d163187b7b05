"""Fixtures for the notifications tests: a real SMTP server (aiosmtpd), a fake clock, the
service served over real HTTP against a real nats-server, and a small Ringsted world."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from services.notifications import store
from services.notifications.main import build
from services.notifications.settings import NotificationSettings
from shared.clock import FakeClock
from shared.events import Envelope, Event
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.natsserver import free_port
from tests.helpers import MailBox, ServedApp, eventually, publish

# Tuesday 12 March 2024, 11:00 in Copenhagen: office hours, far from quiet hours.
START = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)
WELCOME_SECRET = "a-test-link-signing-key-of-32-bytes-or-more"
REFERRALS_URL = "http://referrals.test"
WEB_URL = "http://web.test"
AREA = "ringsted_syd"
AREA_LABEL = "Ringsted Syd"


@pytest.fixture
def smtp() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class Receiver:
    """A real local HTTP server that answers 500 the first `failures` times, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if len(receiver.requests) < receiver.failures else 200
                receiver.requests.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/vejviser"
        # Polled for shutdown every 50 ms, not every half second: the fixture's exit waits for it.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeSms:
    """The SMS gateway is outside the system: this one keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_sms(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_settings(database_url: str, nats_url: str, smtp_port: int, **overrides: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "smtp_port": smtp_port,
        "tick_seconds": 0.05,
        "relay_interval_seconds": 0.05,
        "retry_backoff_seconds": [0.1],
        "delivery_backoff_seconds": [60.0],
        "delivery_max_attempts": 3,
        "referrals_public_url": REFERRALS_URL,
        "web_public_url": WEB_URL,
        "link_signing_key": WELCOME_SECRET,
    }
    return NotificationSettings(**(values | overrides))


def wrap(event: Event, at: datetime) -> Envelope:
    source = "/services/catalogue" if event.context == "catalogue" else "/services/referrals"
    return Envelope.wrap(event, source=source, time=at)


@dataclass
class Service:
    served: ServedApp
    clock: FakeClock
    mail: MailBox
    nats_url: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.served.runtime.db

    async def send(self, *events: Event, at: datetime | None = None) -> list[Envelope]:
        envelopes = [wrap(e, at or self.clock.now()) for e in events]
        await publish(self.nats_url, *envelopes)
        return envelopes

    def query(self, statement: Any) -> list[Any]:
        with self.db.transaction() as session:
            return list(session.scalars(statement))

    def timers(self, rule: str, status: str | None = None) -> list[store.TimerRow]:
        q = select(store.TimerRow).where(store.TimerRow.rule == rule)
        if status:
            q = q.where(store.TimerRow.status == status)
        return self.query(q)

    def nudges(self, rule: str | None = None, recipient: str | None = None) -> list[store.NudgeRow]:
        q = select(store.NudgeRow)
        if rule:
            q = q.where(store.NudgeRow.rule == rule)
        if recipient:
            q = q.where(store.NudgeRow.recipient_id == recipient)
        return self.query(q)

    def has_referral(self, referral_id: str) -> bool:
        return bool(self.query(select(store.ReferralRow).where(store.ReferralRow.referral_id == referral_id)))

    async def settle(self) -> None:
        """Run the worker's own timer and delivery passes now (no waiting for a tick), so a
        test can assert that something did NOT happen after time moved."""
        worker = self.served.app.state.worker
        await worker.fire_due()
        while await worker.deliver_due():
            pass

    def in_flight(self) -> bool:
        """A delivery is out with its channel (claimed, its outcome not recorded yet)."""
        lease = self.served.app.state.notifications.settings.delivery_lease_seconds
        leased = self.clock.now() + timedelta(seconds=lease - 1)
        rows = self.query(
            select(store.DeliveryRow.id).where(
                store.DeliveryRow.status == "pending",
                store.DeliveryRow.attempts > 0,
                store.DeliveryRow.next_attempt_at > leased,
            )
        )
        return bool(rows)

    def idle(self) -> bool:
        """Nothing out with a channel and nothing due to go now. Moving the clock only then
        keeps the worker's own loop from claiming a delivery at the old time and committing
        the claim after the move: its lease (minutes at the old time) would already be over,
        and the delivery would go twice."""
        due = self.query(
            select(store.DeliveryRow.id).where(
                store.DeliveryRow.status == "pending", store.DeliveryRow.next_attempt_at <= self.clock.now()
            )
        )
        return not due and not self.in_flight()

    async def advance(self, **delta: float) -> None:
        """Move time on once the worker has recorded what it is sending (a failure recorded
        after the move would count its back-off from the later time) and sent what is due."""
        await eventually(self.idle)
        self.clock.advance(timedelta(**delta))
        await self.settle()

    async def mail_to(self, address: str, count: int = 1, subject: str | None = None) -> list[EmailMessage]:
        def arrived() -> list[EmailMessage] | None:
            found = self.mail.to(address, subject)
            return found if len(found) >= count else None

        return await eventually(arrived)

    async def world(self) -> None:
        """The directory most tests need: one community, a professional, an ambassador who
        accompanies, a guide."""
        await self.send(
            cat.CommunityRegistered(
                community_id="c-strik",
                organization_id="o-1",
                name="Strikkeklubben Maskerne",
                categories=["kreativ"],
                area=AREA,
                kind="permanent",
                accepts_special_needs=True,
                capacity_total=12,
                contact=cat.WelcomeContact(name="Birthe", email="birthe@maskerne.dk"),
            ),
            ref.ReferrerActivated(
                actor_id="prof-mette",
                role="professional",
                area=AREA,
                name="Mette",
                organization="Jobcenter Ringsted",
                activated_by="guide-anne",
                contact=ref.WorkContact(email="mette@ringsted.dk", phone="+4511111111"),
            ),
            ref.ReferrerActivated(
                actor_id="amb-lars",
                role="ambassador",
                area=AREA,
                name="Lars",
                activated_by="guide-anne",
                offers_accompaniment=True,
                contact=ref.WorkContact(email="lars@example.dk"),
            ),
            ref.ReferrerActivated(
                actor_id="amb-far",
                role="ambassador",
                area="benloese",
                name="Karen",
                offers_accompaniment=True,
                contact=ref.WorkContact(email="karen@example.dk"),
            ),
            ref.ReferrerActivated(
                actor_id="guide-anne",
                role="guide",
                name="Anne",
                contact=ref.WorkContact(email="anne@faellesskabsby.dk"),
            ),
        )

        def loaded() -> bool:
            return bool(self.query(select(store.CommunityRow))) and len(self.query(select(store.RecipientRow))) == 4

        await eventually(loaded)


def referral_created(referral_id: str = "ref-1", **kw: Any) -> ref.ReferralCreated:
    values: dict[str, Any] = {
        "referral_id": referral_id,
        "citizen_ref": "cit-7f3a",
        "community_id": "c-strik",
        "referrer_id": "prof-mette",
    }
    return ref.ReferralCreated(**(values | kw))


@pytest.fixture
async def service(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Service]:
    box, port = smtp
    app = build(make_settings(f"sqlite:///{tmp_path / 'n.db'}", nats_clean, port), clock=clock)
    async with ServedApp(app) as served:
        yield Service(served, clock, box, nats_clean)


@pytest.fixture
async def service_on_both(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, database_url: str
) -> AsyncIterator[Service]:
    """The service on SQLite and on PostgreSQL (the `database_url` fixture runs both)."""
    box, port = smtp
    async with ServedApp(build(make_settings(database_url, nats_clean, port), clock=clock)) as served:
        yield Service(served, clock, box, nats_clean)
