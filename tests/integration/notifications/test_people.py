"""What people read and set: the unread count, a person's pause in their preferences, and a
community's pause (mail held back, the inbox still gets everything, deliveries resume after)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.events import referrals as ref
from shared.links import LINK_VALIDITY, verify_link
from tests.helpers import eventually, token

from .conftest import WELCOME_SECRET, Service, referral_created

CONTACT = token("community_contact", "contact-birthe", communities=["c-strik"])
OTHER_CONTACT = token("community_contact", "contact-else", communities=["c-other"])
LINK_HOLDER = token("community_contact", "community:c-strik", communities=["c-strik"])
GUIDE = token("guide", "guide-anne")
METTE = token("professional", "prof-mette")


async def _unread(service: Service, bearer: str) -> int:
    async with service.served.client(bearer) as client:
        answer = await client.get("/v1/inbox/unread")
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"unread"}
    return int(answer.json()["unread"])


async def test_unread_counts_the_callers_own_and_their_communities_messages(service: Service) -> None:
    await service.world()
    assert await _unread(service, CONTACT) == 0
    await service.send(referral_created("ref-1"), referral_created("ref-2"))
    await eventually(lambda: len(service.nudges("welcome_contact")) == 2)
    assert await _unread(service, CONTACT) == 2
    assert await _unread(service, LINK_HOLDER) == 2  # a one-click link's holder is the community
    assert await _unread(service, METTE) == 0
    assert await _unread(service, OTHER_CONTACT) == 0

    async with service.served.client(CONTACT) as client:
        first = (await client.get("/v1/inbox")).json()["messages"][0]
        assert (await client.post(f"/v1/inbox/{first['id']}/read")).status_code == 200
    assert await _unread(service, CONTACT) == 1

    async with service.served.client() as anonymous:
        assert (await anonymous.get("/v1/inbox/unread")).status_code == 401


async def _pause(service: Service, bearer: str, community_id: str, until: Any) -> Any:
    async with service.served.client(bearer) as client:
        return await client.put(f"/v1/communities/{community_id}/pause", json={"until": until})


async def test_a_paused_community_gets_its_inbox_at_once_and_its_mail_after_the_pause(service: Service) -> None:
    await service.world()
    until = service.clock.now() + timedelta(days=3)
    answer = await _pause(service, LINK_HOLDER, "c-strik", until.isoformat())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "community_id": "c-strik",
        "recipient_id": "community:c-strik",
        "paused_until": until.isoformat().replace("+00:00", "Z"),
    }
    async with service.served.client(CONTACT) as client:
        assert (await client.get("/v1/communities/c-strik/pause")).json()["paused_until"] is not None

    await service.send(referral_created())
    await eventually(lambda: service.nudges("welcome_contact"))
    assert await _unread(service, CONTACT) == 1  # the inbox is not paused
    await service.settle()
    await service.advance(days=2, hours=23)
    assert service.mail.to("birthe@maskerne.dk") == []

    await service.advance(hours=1, minutes=1)  # the pause is over (11:01 in Copenhagen)
    [mail] = await service.mail_to("birthe@maskerne.dk")
    assert mail["Subject"] == "En ny deltager er på vej til Strikkeklubben Maskerne"
    # Its one-click links count their 21 days from when the mail went out, not from the referral.
    text = str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    [url] = [line.rsplit(": ", 1)[1] for line in text.splitlines() if line.startswith("- Pause mails: ")]
    link = verify_link(WELCOME_SECRET, url.rsplit("/", 1)[1], service.clock.now())
    assert link.expires_at == service.clock.now() + LINK_VALIDITY


async def test_lifting_a_pause_early_sends_what_it_held_back(service_on_both: Service) -> None:
    service = service_on_both
    await service.world()
    assert (
        await _pause(service, CONTACT, "c-strik", (service.clock.now() + timedelta(days=20)).isoformat())
    ).is_success
    await service.send(referral_created())
    await eventually(lambda: service.nudges("welcome_contact"))
    await service.advance(hours=1)
    assert service.mail.to("birthe@maskerne.dk") == []

    lifted = await _pause(service, GUIDE, "c-strik", None)
    assert lifted.status_code == 200 and lifted.json()["paused_until"] is None
    await service.settle()
    assert len(await service.mail_to("birthe@maskerne.dk")) == 1


async def test_who_may_pause_a_community_and_what_a_pause_may_be(service: Service) -> None:
    await service.world()
    soon = (service.clock.now() + timedelta(days=7)).isoformat()
    other = await _pause(service, OTHER_CONTACT, "c-strik", soon)
    assert other.status_code == 403 and "community's contact" in other.json()["error"]["message"]
    assert (await _pause(service, METTE, "c-strik", soon)).status_code == 403
    async with service.served.client(OTHER_CONTACT) as client:
        assert (await client.get("/v1/communities/c-strik/pause")).status_code == 403

    unknown = await _pause(service, GUIDE, "c-nowhere", soon)
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "no such community"

    naive = await _pause(service, GUIDE, "c-strik", "2024-04-01T10:00:00")
    assert naive.status_code == 422 and naive.json()["error"]["details"][0]["field"] == "until"
    assert (await _pause(service, GUIDE, "c-strik", "next tuesday")).status_code == 422
    async with service.served.client(GUIDE) as client:
        assert (await client.put("/v1/communities/c-strik/pause", json={})).status_code == 422
    too_long = await _pause(service, GUIDE, "c-strik", (service.clock.now() + timedelta(days=400)).isoformat())
    assert too_long.status_code == 422
    assert too_long.json()["error"]["message"].startswith("until: a pause can last at most a year")


async def test_a_person_pauses_in_their_preferences_and_the_inbox_still_fills(service: Service) -> None:
    await service.world()
    until = service.clock.now() + timedelta(days=2)
    async with service.served.client(METTE) as client:
        put = await client.put("/v1/preferences", json={"channels": ["email"], "paused_until": until.isoformat()})
        assert put.status_code == 200, put.text
        assert put.json()["paused_until"] == until.isoformat().replace("+00:00", "Z")
        assert (await client.get("/v1/preferences")).json()["paused_until"] is not None
        bad = await client.put("/v1/preferences", json={"paused_until": "2024-04-01T10:00:00"})
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "paused_until"

    await service.send(referral_created())
    await service.send(ref.WelcomeConfirmed(referral_id="ref-1", community_id="c-strik", confirmed_by="contact"))
    await eventually(lambda: service.nudges("welcome_confirmed"))
    assert await _unread(service, METTE) == 1
    await service.advance(days=1)
    assert service.mail.to("mette@ringsted.dk") == []
    await service.advance(days=1, minutes=1)
    [thanks] = await service.mail_to("mette@ringsted.dk")
    assert thanks["Subject"] == "Det lykkedes: velkomst i Strikkeklubben Maskerne"
