"""Two delivery workers (two replicas of the service) on one database send each message once:
their claims lease a delivery to one of them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
write lock on SQLite), and neither sends what the other holds."""

from __future__ import annotations

import asyncio

from services.notifications.channels import EmailChannel
from services.notifications.consumers import handlers
from services.notifications.service import Notifications
from services.notifications.service.deliver import Worker
from services.notifications.store import Base
from shared.clock import FakeClock
from shared.events import catalogue as cat
from shared.inbox import process_batch
from shared.runtime import Runtime
from tests.helpers import MailBox

from .conftest import AREA, make_settings, referral_created, wrap

REFERRALS = 120  # more than two claims of 50, so the workers meet


async def test_two_workers_send_every_message_once(
    database_url: str, smtp: tuple[MailBox, int], clock: FakeClock
) -> None:
    box, port = smtp
    settings = make_settings(database_url, "nats://127.0.0.1:1", port)
    replicas = [Runtime(settings, Base.metadata, clock=clock) for _ in range(2)]
    replicas[0].db.create_schema(Base.metadata)
    deciding = Notifications(replicas[0], settings)
    communities = [
        cat.CommunityRegistered(
            community_id=f"c-{i}",
            organization_id="o-1",
            name=f"Fællesskab {i}",
            categories=["kreativ"],
            area=AREA,
            kind="permanent",
            accepts_special_needs=True,
            contact=cat.WelcomeContact(email=f"kontakt{i}@forening.example.dk"),
        )
        for i in range(REFERRALS)
    ]
    created = [referral_created(f"ref-{i}", community_id=f"c-{i}") for i in range(REFERRALS)]
    for subscription in sorted(handlers(deciding), key=lambda s: s.context != "catalogue"):  # communities first
        stream = communities if subscription.context == "catalogue" else created
        bodies = [wrap(event, clock.now()).to_json() for event in stream]
        outcomes = process_batch(replicas[0].db, replicas[0].inbox, subscription.name, bodies, subscription.handlers)
        assert {outcome.status for outcome in outcomes} == {"processed"}

    workers = [Worker(Notifications(runtime, settings), {"email": EmailChannel(settings)}) for runtime in replicas]

    async def drain(worker: Worker) -> int:
        sent = 0
        while batch := await worker.deliver_due():
            sent += batch
        return sent

    try:
        shares = await asyncio.gather(*(drain(worker) for worker in workers))
    finally:
        for runtime in replicas:
            runtime.db.dispose()
    assert sum(shares) == REFERRALS
    ids = [message["Message-ID"] for message in box.messages]
    assert len(ids) == REFERRALS and len(set(ids)) == REFERRALS
    assert sorted(message["To"] for message in box.messages) == sorted(
        f"kontakt{i}@forening.example.dk" for i in range(REFERRALS)
    )
