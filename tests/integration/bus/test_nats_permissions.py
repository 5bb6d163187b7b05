"""NATS locked down (issue 14), on a real nats-server with the users of shared/nats_auth.py:
no anonymous client, no publish on another service's context, no consumer on a stream a
service does not consume; what a service needs still works under its own user."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NotFoundError

from shared.bus import DLQ_STREAM, ensure_streams, publish_event, purge_citizen, stream_name
from shared.events import Envelope
from shared.events.catalogue import CommunityArchived
from shared.events.referrals import CitizenRegistered, ReferralCreated
from shared.nats_auth import inbox_prefix
from shared.natsserver import NatsServer

REFUSED = (NatsTimeoutError, TimeoutError)  # a refused request gets no answer


class Login:
    """A client logged in as one user, with the server's errors it was sent."""

    def __init__(self, nc: Client, errors: list[str]) -> None:
        self.nc = nc
        self.errors = errors

    def violations(self) -> list[str]:
        return [e for e in self.errors if "permissions violation" in e.lower()]


@asynccontextmanager
async def login(server: NatsServer, user: str) -> AsyncIterator[Login]:
    errors: list[str] = []

    async def record(exc: Exception) -> None:
        errors.append(str(exc))

    credentials = server.credentials
    assert credentials is not None
    nc = await nats.connect(
        server.url,
        user=user,
        password=credentials[user],
        inbox_prefix=inbox_prefix(user),
        error_cb=record,
        allow_reconnect=False,
    )
    try:
        yield Login(nc, errors)
    finally:
        await nc.close()


@pytest.fixture
async def server(fresh_nats: NatsServer) -> AsyncIterator[NatsServer]:
    """The server with every stream declared, as the first service to start leaves it."""
    nc = await nats.connect(fresh_nats.admin_url)
    try:
        await ensure_streams(nc.jetstream())
    finally:
        await nc.close()
    yield fresh_nats


def referral() -> Envelope:
    event = ReferralCreated(referral_id="r-1", citizen_ref="c-1", community_id="k-1", referrer_id="a-1")
    return Envelope.wrap(event, source="/services/referrals")


async def messages(server: NatsServer, stream: str) -> int:
    nc = await nats.connect(server.admin_url)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def consumers(server: NatsServer, stream: str) -> list[str]:
    nc = await nats.connect(server.admin_url)
    try:
        return sorted(c.name for c in await nc.jetstream().consumers_info(stream))
    finally:
        await nc.close()


async def test_an_anonymous_client_is_refused(server: NatsServer) -> None:
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5)


async def test_a_wrong_password_is_refused(server: NatsServer) -> None:
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(
            server.url, user="referrals", password="guessed", allow_reconnect=False, max_reconnect_attempts=0
        )


async def test_a_service_cannot_publish_on_another_services_context(server: NatsServer) -> None:
    forged = referral()
    async with login(server, "analytics") as analytics:
        js = analytics.nc.jetstream(timeout=1.0)
        with pytest.raises(REFUSED):
            await publish_event(js, forged)
        # Nor past JetStream, on the core subject the stream captures.
        await analytics.nc.publish(forged.nats_subject, forged.to_json())
        await analytics.nc.flush()
        assert any("vejviser.referrals.referralcreated" in v.lower() for v in analytics.violations())
    assert await messages(server, stream_name("referrals")) == 0


async def test_a_service_cannot_read_a_stream_it_does_not_consume(server: NatsServer) -> None:
    async with login(server, "catalogue") as catalogue:
        js = catalogue.nc.jetstream(timeout=1.0)
        with pytest.raises(REFUSED):
            await js.pull_subscribe("vejviser.notifications.>", durable="catalogue-snoop", stream="NOTIFICATIONS")
        with pytest.raises(REFUSED):
            await js.get_msg(stream_name("notifications"), 1)
    assert await consumers(server, "NOTIFICATIONS") == []


async def test_a_service_cannot_take_another_services_durable(server: NatsServer) -> None:
    """Analytics reads the referrals stream too, but only through its own durable: it can
    neither create nor fetch from notifications' (which would steal its events)."""
    async with login(server, "notifications") as notifications:
        await notifications.nc.jetstream().pull_subscribe(
            "vejviser.referrals.>", durable="notifications-referrals", stream="REFERRALS"
        )
    async with login(server, "analytics") as analytics:
        js = analytics.nc.jetstream(timeout=1.0)
        with pytest.raises(REFUSED):
            sub = await js.pull_subscribe_bind(durable="notifications-referrals", stream="REFERRALS")
            await sub.fetch(1, timeout=1.0)
        with pytest.raises(REFUSED):
            await js.delete_consumer("REFERRALS", "notifications-referrals")
    assert await consumers(server, "REFERRALS") == ["notifications-referrals"]


async def test_a_service_receives_nothing_it_did_not_fetch(server: NatsServer) -> None:
    """Subscriptions are refused but on the user's own reply inbox: no core subject of a
    context, and no other service's inbox (where that service's fetched events arrive)."""
    async with login(server, "catalogue") as catalogue:
        received: list[bytes] = []

        async def keep(msg: Any) -> None:
            received.append(msg.data)

        await catalogue.nc.subscribe("vejviser.referrals.>", cb=keep)
        await catalogue.nc.subscribe("_INBOX.notifications.>", cb=keep)
        await catalogue.nc.flush()
        admin = await nats.connect(server.admin_url)
        try:
            await admin.publish("vejviser.referrals.ReferralCreated", b"{}")
            await admin.publish("_INBOX.notifications.x", b"{}")
            await admin.flush()
        finally:
            await admin.close()
        await catalogue.nc.flush()  # anything delivered would have arrived before this answer
        assert received == []
        assert len([v for v in catalogue.violations() if "subscription" in v.lower()]) == 2


async def test_the_referrals_service_publishes_reads_what_it_consumes_and_purges(server: NatsServer) -> None:
    registered = Envelope.wrap(
        CitizenRegistered(citizen_ref="c-9", age_band="25-34", area="vestervang", target_groups=["newcomer"]),
        source="/services/referrals",
    )
    async with login(server, "referrals") as referrals:
        js = referrals.nc.jetstream(timeout=5.0)
        await publish_event(js, referral())
        await publish_event(js, registered)
        await js.publish("vejviser.dlq.referrals-communities.c-9", b"{}")  # a dead letter of its own
        assert await messages(server, DLQ_STREAM) == 1

        async with login(server, "catalogue") as catalogue:
            archived = Envelope.wrap(CommunityArchived(community_id="k-1"), source="/services/catalogue")
            await publish_event(catalogue.nc.jetstream(timeout=5.0), archived)

        sub = await js.pull_subscribe("vejviser.catalogue.>", durable="referrals-communities", stream="CATALOGUE")
        [msg] = await sub.fetch(1, timeout=5.0)
        assert json.loads(msg.data)["id"] == archived.id
        await msg.ack_sync()

        await purge_citizen(js, "c-9")
        assert referrals.violations() == []
    assert await messages(server, stream_name("referrals")) == 1  # the registration went, the referral stays
    assert await messages(server, DLQ_STREAM) == 0
    assert await consumers(server, "CATALOGUE") == ["referrals-communities"]


async def test_each_service_keeps_only_its_own_dead_letters(server: NatsServer) -> None:
    """The dead-letter keeper of a service reads the advisories of its own durables only."""
    from shared.bus import run_dead_letter_keeper

    async with login(server, "catalogue") as catalogue:
        stop = _stopped()
        await run_dead_letter_keeper(catalogue.nc, stop, service="catalogue")
        assert catalogue.violations() == []
    nc = await nats.connect(server.admin_url)
    try:
        info = await nc.jetstream().consumer_info("ADVISORIES", "dlq-keeper-catalogue")
        assert info.config.filter_subjects == [
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.REFERRALS.catalogue-referral-pressure",
            "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.REFERRALS.catalogue-referral-pressure",
        ]
        with pytest.raises(NotFoundError):
            await nc.jetstream().consumer_info("ADVISORIES", "dlq-keeper")
    finally:
        await nc.close()


def _stopped() -> asyncio.Event:
    stop = asyncio.Event()
    stop.set()  # the keeper sets itself up, then returns at once
    return stop
