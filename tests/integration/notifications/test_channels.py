"""Channels and preferences: quiet hours, opt-out, daily cap, inbox, signed webhooks with
retries and a dead letter, and SMS behind its interface."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.notifications import store
from services.notifications.main import build
from shared.clock import FakeClock
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.natsserver import free_port
from tests.helpers import ServedApp, eventually, stream_events, token

from .conftest import AREA, FakeSms, MailBox, Receiver, Service, make_settings, referral_created


async def test_quiet_hours_hold_mail_back_until_morning_but_the_inbox_gets_it_at_once(service: Service) -> None:
    await service.world()
    service.clock.set(datetime(2024, 3, 12, 21, 30, tzinfo=UTC))  # 22:30 in Copenhagen
    await service.send(referral_created())
    contact = token("community_contact", "contact-birthe", communities=["c-strik"])
    async with service.served.client(contact) as client:
        inbox = await eventually(lambda: _unread(client))
    assert inbox["messages"][0]["title"].startswith("En ny deltager")
    await service.settle()
    assert service.mail.to("birthe@maskerne.dk") == []

    await service.advance(hours=8, minutes=20)  # 06:50: still quiet
    assert service.mail.to("birthe@maskerne.dk") == []
    await service.advance(minutes=11)  # 07:01
    [mail] = await service.mail_to("birthe@maskerne.dk")
    assert mail["Subject"].startswith("En ny deltager")


async def _unread(client: Any) -> dict[str, Any] | None:
    body = (await client.get("/v1/inbox")).json()
    return body if body["unread"] else None


async def test_an_opt_out_is_respected_and_other_rules_still_arrive(service: Service) -> None:
    await service.world()
    async with service.served.client(token("professional", "prof-mette")) as client:
        put = await client.put("/v1/preferences", json={"channels": ["email"], "opted_out": ["welcome_confirmed"]})
        assert put.status_code == 200, put.text
        assert put.json()["opted_out"] == ["welcome_confirmed"] and put.json()["channels"] == ["email", "inbox"]
        assert put.json()["quiet_hours"] == {"start": "21:00", "end": "07:00"}
    await service.send(referral_created())
    await service.send(ref.WelcomeConfirmed(referral_id="ref-1", community_id="c-strik", confirmed_by="birthe"))
    await eventually(lambda: service.timers("welcome_followup", "cancelled"))  # the event was processed
    await service.settle()
    assert service.nudges("welcome_confirmed") == [] and service.mail.to("mette@ringsted.dk") == []

    await service.send(referral_created("ref-2"))
    await service.advance(days=7, hours=1)
    await service.mail_to("mette@ringsted.dk", subject="Hvordan gik")  # not opted out of this one


async def test_preferences_validate_with_messages_a_person_can_act_on(service: Service) -> None:
    async with service.served.client(token("ambassador", "amb-lars")) as client:
        defaults = (await client.get("/v1/preferences")).json()
        assert defaults == {
            "recipient_id": "amb-lars",
            "channels": ["email", "inbox"],
            "opted_out": [],
            "quiet_hours": {"start": "21:00", "end": "07:00"},
            "daily_cap": 10,
            "paused_until": None,
            "sms_available": False,
        }
        bad = await client.put("/v1/preferences", json={"quiet_hours": {"start": "25:00", "end": "07:00"}})
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["field"] == "quiet_hours.start"
        unknown = await client.put("/v1/preferences", json={"opted_out": ["spam"]})
        assert unknown.status_code == 422 and "welcome_contact" in unknown.json()["error"]["message"]
        none = await client.put("/v1/preferences", json={"quiet_hours": None, "daily_cap": 0})
        assert none.json()["quiet_hours"] is None and none.json()["daily_cap"] == 0
        assert (await client.get("/v1/preferences")).json()["daily_cap"] == 0
        anonymous = await service.served.client().get("/v1/preferences")
        assert anonymous.status_code == 401


async def test_the_daily_cap_keeps_extra_messages_in_the_inbox_only(service: Service) -> None:
    await service.world()
    async with service.served.client(token("professional", "prof-mette")) as client:
        await client.put("/v1/preferences", json={"daily_cap": 1, "opted_out": ["weekly_digest"]})
    await service.send(referral_created("ref-1"), referral_created("ref-2"))
    await eventually(lambda: service.has_referral("ref-2"))
    await service.advance(days=7, hours=1)  # two follow-ups due the same day
    await eventually(lambda: len(service.nudges("welcome_followup")) == 2)
    # The worker's own loop may be sending while the test settles: wait for the one e-mail.
    await service.mail_to("mette@ringsted.dk", subject="Hvordan gik")
    await service.settle()
    assert len(service.mail.to("mette@ringsted.dk", "Hvordan gik")) == 1
    async with service.served.client(token("professional", "prof-mette")) as client:
        inbox = (await client.get("/v1/inbox")).json()
        assert sum(m["rule"] == "welcome_followup" for m in inbox["messages"]) == 2
        first = inbox["messages"][0]["id"]
        read = await client.post(f"/v1/inbox/{first}/read")
        assert read.status_code == 200 and read.json()["read_at"] is not None
        assert (await client.get("/v1/inbox")).json()["unread"] == inbox["unread"] - 1
    async with service.served.client(token("professional", "someone-else")) as other:
        assert (await other.post(f"/v1/inbox/{first}/read")).status_code == 404
        assert (await other.get("/v1/inbox")).json() == {"unread": 0, "messages": []}


async def test_the_daily_cap_counts_across_batches_and_starts_again_the_next_day(service_on_both: Service) -> None:
    service = service_on_both
    await service.world()
    async with service.served.client(token("professional", "prof-mette")) as client:
        await client.put("/v1/preferences", json={"daily_cap": 1, "opted_out": ["weekly_digest"]})
    start = service.clock.now()
    await service.send(referral_created("ref-1"), at=start)
    await service.send(referral_created("ref-2"), at=start + timedelta(hours=2))
    await service.send(referral_created("ref-3"), at=start + timedelta(days=1))
    await eventually(lambda: service.has_referral("ref-3"))

    def followups() -> set[str]:
        return {str(nudge.referral_id) for nudge in service.nudges("welcome_followup")}

    await service.advance(days=7, hours=1)  # ref-1's follow-up: today's one e-mail
    assert followups() == {"ref-1"}
    await service.advance(hours=2)  # ref-2's, the same day, in a later tick: inbox only
    assert followups() == {"ref-1", "ref-2"}
    await service.advance(days=1)  # ref-3's, the next day: an e-mail again
    assert followups() == {"ref-1", "ref-2", "ref-3"}
    mailed = service.query(
        select(store.NudgeRow.referral_id)
        .join(store.DeliveryRow, store.DeliveryRow.nudge_id == store.NudgeRow.id)
        .where(store.NudgeRow.rule == "welcome_followup", store.DeliveryRow.channel == "email")
    )
    assert sorted(mailed) == ["ref-1", "ref-3"]
    await service.mail_to("mette@ringsted.dk", 2, subject="Hvordan gik")  # the worker's loop may be sending
    await service.settle()
    assert len(service.mail.to("mette@ringsted.dk", "Hvordan gik")) == 2


# ---------------------------------------------------------------------------- webhooks


@pytest.fixture
def flaky() -> Iterator[Receiver]:
    with Receiver(failures=2) as receiver:
        yield receiver


@pytest.fixture
def broken() -> Iterator[Receiver]:
    with Receiver(failures=10**6) as receiver:
        yield receiver


async def test_a_webhook_that_fails_twice_then_succeeds_gets_one_signed_delivery(
    service: Service, flaky: Receiver, broken: Receiver
) -> None:
    await service.world()
    secret = "jobcenter-shared-secret-0123456789"
    async with service.served.client(token("municipal_system", "system-jobcenter")) as system:
        created = await system.post(
            "/v1/webhooks", json={"url": flaky.url, "secret": secret, "rules": ["welcome_contact"]}
        )
        assert created.status_code == 201, created.text
        hook_id = created.json()["id"]
        dead = (await system.post("/v1/webhooks", json={"url": broken.url, "rules": ["welcome_contact"]})).json()
        assert len(dead["secret"]) >= 32  # generated and shown once
        bad = await system.post("/v1/webhooks", json={"url": "not a url"})
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "url"
    async with service.served.client(token("professional", "prof-mette")) as prof:
        assert (await prof.get("/v1/webhooks")).status_code == 403

    await service.send(referral_created())
    await eventually(lambda: len(flaky.requests) == 1)
    await service.advance(seconds=61)  # the back-off (60 s in these settings)
    await eventually(lambda: len(flaky.requests) == 2)
    await service.advance(seconds=61)
    await eventually(lambda: len(flaky.requests) == 3)
    await service.advance(minutes=10)
    assert [status for _, _, status in flaky.requests] == [500, 500, 200]
    for headers, body, _ in flaky.requests:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Vejviser-Signature"], expected)
        assert headers["X-Vejviser-Timestamp"].isdigit()
    payload = json.loads(flaky.requests[-1][1])
    assert payload["rule"] == "welcome_contact" and payload["referral_id"] == "ref-1"
    assert "cit-7f3a" not in flaky.requests[-1][1].decode()
    assert len({h["X-Vejviser-Delivery"] for h, _, _ in flaky.requests}) == 1  # one delivery, retried

    async with service.served.client(token("municipal_system", "system-jobcenter")) as system:
        [delivery] = (await system.get(f"/v1/webhooks/{hook_id}/deliveries")).json()
        assert delivery["status"] == "sent" and delivery["attempts"] == 3
        # The always-failing receiver: 3 tries (max_attempts in these settings), then a dead letter.
        failed = (await system.get(f"/v1/webhooks/{dead['id']}/deliveries", params={"status": "failed"})).json()
        assert len(failed) == 1 and failed[0]["last_error"] == "webhook: HTTP 500"
        listed = {w["id"]: w["deliveries"] for w in (await system.get("/v1/webhooks")).json()}
        assert listed == {hook_id: {"sent": 1}, dead["id"]: {"failed": 1}}
    assert len(broken.requests) == 3
    events = await eventually(lambda: _failures(service.nats_url))
    assert events[0].data["channel"] == "webhook" and events[0].data["reason"] == "webhook: HTTP 500"


async def _failures(nats_url: str) -> list[Any]:
    return [e for e in await stream_events(nats_url, "notifications") if e.type.endswith("DeliveryFailed.v1")]


async def test_failed_mail_is_retried_then_recorded_as_failed(
    nats_clean: str, clock: FakeClock, tmp_path: Path
) -> None:
    dead_port = free_port()  # nothing listens here
    app = build(make_settings(f"sqlite:///{tmp_path / 'n.db'}", nats_clean, dead_port), clock=clock)
    async with ServedApp(app) as served:
        service = Service(served, clock, MailBox(), nats_clean)
        await service.world()
        await service.send(referral_created())
        await eventually(lambda: service.nudges("welcome_contact"))
        for _ in range(3):
            await service.advance(seconds=61)
        [nudge] = service.nudges("welcome_contact")
        assert nudge.status == "failed"
        [event] = await eventually(lambda: _failures(nats_clean))
        assert event.data["channel"] == "email" and event.data["reason"].startswith("smtp:")


async def test_sms_goes_through_its_gateway_only_when_enabled_and_chosen(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, tmp_path: Path
) -> None:
    box, port = smtp
    gateway = FakeSms()
    settings = make_settings(f"sqlite:///{tmp_path / 'n.db'}", nats_clean, port, sms_enabled=True)
    async with ServedApp(build(settings, clock=clock, sms_gateway=gateway)) as served:
        service = Service(served, clock, box, nats_clean)
        await service.world()
        async with served.client(token("professional", "prof-mette")) as client:
            prefs = await client.put("/v1/preferences", json={"channels": ["sms"]})
            assert prefs.json()["sms_available"] is True
        await service.send(referral_created())
        await service.advance(days=7, hours=1)
        await eventually(lambda: [s for s in gateway.sent if "Hvordan gik" in s[1]])
        assert gateway.sent[0][0] == "+4511111111"
        assert box.to("mette@ringsted.dk") == []  # she chose SMS instead of e-mail


async def test_a_batch_of_mail_goes_over_a_few_connections_not_one_each(service: Service) -> None:
    """Twelve communities told in the evening that someone is coming get their mail when quiet
    hours end, in one batch of the worker: twelve mails over at most SMTP_CONNECTIONS (2)
    connections, each mail still its own delivery, marked sent."""
    await service.world()
    service.clock.advance(timedelta(hours=11))  # 22:00 in Copenhagen
    communities = [f"c-{i}" for i in range(12)]
    await service.send(
        *(
            cat.CommunityRegistered(
                community_id=community_id,
                organization_id="o-1",
                name=f"Fællesskab {i}",
                categories=["kreativ"],
                area=AREA,
                kind="permanent",
                accepts_special_needs=True,
                contact=cat.WelcomeContact(email=f"kontakt{i}@forening.example.dk"),
            )
            for i, community_id in enumerate(communities)
        )
    )
    await eventually(lambda: len(service.query(select(store.CommunityRow))) == 13)
    await service.send(*(referral_created(f"ref-{c}", community_id=c) for c in communities))
    await eventually(lambda: len(service.nudges("welcome_contact")) == 12)
    await service.advance(hours=9)  # 07:00 the next morning
    arrived = [await service.mail_to(f"kontakt{i}@forening.example.dk") for i in range(12)]
    assert all(len(mails) == 1 for mails in arrived)
    assert len(set(service.mail.peers)) <= 2
    assert {nudge.status for nudge in service.nudges("welcome_contact")} == {"sent"}
