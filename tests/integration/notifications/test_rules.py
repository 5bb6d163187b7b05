"""Every rule fires with the right recipient, Danish text and link, over a real nats-server and
a real SMTP server, and stays quiet when the awaited event arrives in time (time is a fake
clock the tests move; nothing sleeps for days)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.notifications import store
from shared.clock import local
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.links import verify_link
from tests.helpers import eventually, stream_events, token

from .conftest import AREA, AREA_LABEL, WEB_URL, WELCOME_SECRET, Service, referral_created


def body(message: object, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))  # type: ignore[attr-defined]
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


async def test_rule1_the_welcome_contact_hears_someone_is_coming_with_a_one_click_link(service: Service) -> None:
    await service.world()
    await service.send(referral_created(needs_accompaniment=True, special_considerations=True))
    [mail] = await service.mail_to("birthe@maskerne.dk")
    assert mail["Subject"] == "En ny deltager er på vej til Strikkeklubben Maskerne"
    text, html = body(mail), body(mail, "html")
    assert "brug for følgeskab" in text and "særlige hensyn" in text
    assert "12. marts 2024 kl. 11.00" in text  # shown in Copenhagen time
    links = {line.split(": ")[0][2:]: line.split(": ")[1] for line in text.splitlines() if f"{WEB_URL}/l/" in line}
    assert len(links) == 9
    welcome = verify_link(WELCOME_SECRET, links["Borgeren er budt velkommen"].rsplit("/", 1)[1], service.clock.now())
    assert (welcome.action, welcome.subject_id, welcome.actor_id) == ("welcome", "ref-1", "community:c-strik")
    pause = verify_link(WELCOME_SECRET, links["Pause mails"].rsplit("/", 1)[1], service.clock.now())
    assert (pause.action, pause.subject_id, pause.communities) == ("pause", "c-strik", ("c-strik",))
    assert all(f'href="{link}"' in html for link in links.values())
    assert f"{WEB_URL}/indstillinger" in text and f'href="{WEB_URL}/indstillinger"' in html
    assert "cit-7f3a" not in text + html  # never the citizen's identity

    # The contact also finds it in the inbox (their token names the community).
    contact = token("community_contact", "contact-birthe", communities=["c-strik"])
    async with service.served.client(contact) as client:
        inbox = (await client.get("/v1/inbox")).json()
    assert [m["title"] for m in inbox["messages"]] == [mail["Subject"]]

    sent = await eventually(lambda: stream_events(service.nats_url, "notifications"))
    assert [(e.type, e.data["rule"], e.data["channel"]) for e in sent] == [
        ("dk.vejviser.NudgeSent.v1", "welcome_contact", "email")
    ]
    assert service.mail.to("mette@ringsted.dk") == []


async def test_rule2_companions_in_the_area_and_guides_are_asked_after_48_hours(service: Service) -> None:
    await service.world()
    await service.send(referral_created(needs_accompaniment=True))
    await service.mail_to("birthe@maskerne.dk")
    await service.advance(hours=47)
    assert service.timers("accompaniment_needed", "scheduled"), "not yet due after 47 hours"
    assert service.nudges("accompaniment_needed") == []

    await service.advance(hours=1, minutes=1)
    [lars] = await service.mail_to("lars@example.dk")
    [anne] = await service.mail_to("anne@faellesskabsby.dk")
    assert lars["Subject"] == "Kan du følge en borger til Strikkeklubben Maskerne?"
    assert "gerne vil følge borgere" in body(lars) and "efter 48 timer" in body(lars)
    assert "Som fællesskabsguide" in body(anne)
    assert service.mail.to("karen@example.dk") == []  # offers accompaniment, but in another area
    assert {n.recipient_id for n in service.nudges("accompaniment_needed")} == {"amb-lars", "guide-anne"}


async def test_rule2_stays_quiet_when_accompaniment_is_arranged_in_time(service: Service) -> None:
    await service.world()
    await service.send(referral_created(needs_accompaniment=True))
    await service.advance(hours=24)
    await service.send(ref.AccompanimentArranged(referral_id="ref-1", companion_id="amb-lars"))
    await eventually(lambda: service.timers("accompaniment_needed", "cancelled"))
    await service.advance(hours=30)
    assert service.nudges("accompaniment_needed") == []
    assert service.mail.to("lars@example.dk") == []


async def test_rule3_the_referrer_is_nudged_at_7_days_and_the_guides_told_at_14(service: Service) -> None:
    await service.world()
    await service.send(referral_created())
    await service.mail_to("birthe@maskerne.dk")
    await service.advance(days=6, hours=23)
    assert service.nudges("welcome_followup") == []

    await service.advance(hours=1)
    [nudge] = await service.mail_to("mette@ringsted.dk", subject="Hvordan gik")
    assert nudge["Subject"] == "Hvordan gik det med henvisningen til Strikkeklubben Maskerne?"
    assert "For 7 dage siden henviste du en borger" in body(nudge)
    assert service.mail.to("anne@faellesskabsby.dk") == []

    await service.advance(days=7)
    [escalation] = await service.mail_to("anne@faellesskabsby.dk")
    assert escalation["Subject"] == "Ingen velkomst endnu efter 14 dage: Strikkeklubben Maskerne"
    assert "fra Mette" in body(escalation)
    assert len(service.mail.to("mette@ringsted.dk", "Hvordan gik")) == 1  # the 14-day step: guides only


async def test_rule4_a_confirmed_welcome_thanks_the_referrer_and_ends_the_follow_up(service: Service) -> None:
    await service.world()
    await service.send(referral_created())
    await service.mail_to("birthe@maskerne.dk")
    await service.advance(days=3)
    await service.send(ref.WelcomeConfirmed(referral_id="ref-1", community_id="c-strik", confirmed_by="contact"))
    [thanks] = await service.mail_to("mette@ringsted.dk")
    assert thanks["Subject"] == "Det lykkedes: velkomst i Strikkeklubben Maskerne"
    assert "Tak for din henvisning" in body(thanks) and "Din vejvisning virkede" in body(thanks)

    await eventually(lambda: len(service.timers("welcome_escalation", "cancelled")) == 1)
    await service.advance(days=15)
    assert service.nudges("welcome_followup") == [] and service.nudges("welcome_escalation") == []
    assert service.mail.to("mette@ringsted.dk", "Hvordan gik") == []


async def test_rule5_a_dormant_professional_gets_three_communities_with_room(service: Service) -> None:
    await service.world()
    names = ["Aftensang", "Brætspilscafé", "Cykelholdet", "Dans for alle"]
    await service.send(
        *[
            cat.CommunityRegistered(
                community_id=f"c-{i}",
                organization_id="o",
                name=name,
                categories=[],
                area=AREA,
                kind="permanent",
                accepts_special_needs=False,
            )
            for i, name in enumerate(names)
        ]
    )
    await service.send(cat.CommunityCapacityChanged(community_id="c-0", available=0, total=20, status="full"))
    # Activated 45 days ago (back-dated), never referred anyone.
    await service.send(
        ref.ReferrerActivated(
            actor_id="prof-ole",
            role="professional",
            area=AREA,
            name="Ole",
            contact=ref.WorkContact(email="ole@ringsted.dk"),
        ),
        at=service.clock.now() - timedelta(days=45),
    )
    await eventually(lambda: any(t.subject_id == "prof-ole" for t in service.timers("dormant_referrer", "scheduled")))
    await eventually(
        lambda: (
            service.query(select(store.CommunityRow.has_room).where(store.CommunityRow.community_id == "c-0"))
            == [False]
        )
    )
    await service.advance(hours=2)  # past the grace period that protects imports
    [nudge] = await service.mail_to("ole@ringsted.dk")
    assert nudge["Subject"] == f"Fællesskaber i {AREA_LABEL} med plads lige nu"  # the Danish label
    text = body(nudge)
    assert "Hej Ole" in text
    suggested = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    assert suggested == ["Brætspilscafé", "Cykelholdet", "Dans for alle"]  # Aftensang is full
    assert service.mail.to("mette@ringsted.dk") == []  # activated today: not dormant


async def test_rule6_the_weekly_digest_lists_open_referrals_and_the_week(service: Service) -> None:
    await service.world()
    await service.send(referral_created("ref-1", needs_accompaniment=True))
    await service.send(referral_created("ref-2"))
    await service.advance(days=1)
    await service.send(ref.WelcomeConfirmed(referral_id="ref-2", community_id="c-strik", confirmed_by="contact"))
    await service.mail_to("mette@ringsted.dk")  # the thank-you for ref-2
    # Next Monday 08:00 in Copenhagen.
    monday = local(service.clock.now())
    days = (7 - monday.weekday()) % 7 or 7
    service.clock.set(monday.replace(hour=8, minute=1) + timedelta(days=days))
    await service.settle()
    digest = await service.mail_to("mette@ringsted.dk", subject="Din uge med Vejviser")
    assert len(digest) == 1
    text = body(digest[0])
    assert "Åbne henvisninger (1)" in text and "mangler følgeskab" in text
    assert "Strikkeklubben Maskerne – budt velkommen" in text
    # Guide Anne has no referrals: no empty digest for her.
    assert service.mail.to("anne@faellesskabsby.dk", "Din uge") == []


async def test_back_dated_referrals_fire_at_once_but_historic_ones_stay_silent(service: Service) -> None:
    await service.world()
    now = service.clock.now()
    await service.send(referral_created("ref-old"), at=now - timedelta(days=40))
    await service.send(referral_created("ref-recent"), at=now - timedelta(days=10))
    followup = await service.mail_to("mette@ringsted.dk")
    assert "For 10 dage siden" in body(followup[0])
    await eventually(lambda: service.has_referral("ref-old"))
    await service.settle()
    assert {n.referral_id for n in service.nudges()} == {"ref-recent"}
    assert len(service.mail.to("birthe@maskerne.dk")) == 1  # only the recent one


async def test_the_nudge_overview_is_for_guides_and_admins(service: Service) -> None:
    await service.world()
    await service.send(referral_created())
    await service.mail_to("birthe@maskerne.dk")
    async with service.served.client(token("guide", "guide-anne")) as guide:
        scheduled = (await guide.get("/v1/nudges", params={"status": "scheduled"})).json()
        sent = (await guide.get("/v1/nudges", params={"status": "sent"})).json()
        bad = await guide.get("/v1/nudges", params={"status": "maybe"})
    assert {n["rule"] for n in scheduled if n["referral_id"] == "ref-1"} == {"welcome_followup", "welcome_escalation"}
    assert [(n["rule"], n["recipient_id"]) for n in sent] == [("welcome_contact", "community:c-strik")]
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "status"
    async with service.served.client(token("professional", "prof-mette")) as prof:
        forbidden = await prof.get("/v1/nudges", params={"status": "sent"})
    assert forbidden.status_code == 403 and "allowed roles" in forbidden.json()["error"]["message"]
