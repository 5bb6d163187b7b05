"""An erased citizen is never the subject of a message again, over a real nats-server, a real
SMTP server (aiosmtpd), a real webhook receiver and an SMS gateway (the one part outside the
system, faked): their timers are cancelled, queued and retrying deliveries dropped, inbox
messages about them deleted, weekly digests redacted, while another citizen's timers fire.

The citizen who is erased has referrals only to Cykelholdet (in Benløse), the one who stays
only to Strikkeklubben Maskerne (in Ringsted Syd), so any message naming Cykelholdet after the
erasure is a message about the erased citizen."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from services.notifications import store
from services.notifications.main import build
from services.notifications.service.decide import on_referrals
from shared.clock import FakeClock, local
from shared.events import catalogue as cat
from shared.events import referrals as ref
from tests.helpers import MailBox, ServedApp, eventually, token

from .conftest import AREA, FakeSms, Receiver, Service, make_settings, referral_created, wrap

GONE = ("ref-gone-welcomed", "ref-gone-open")  # the erased citizen's referrals (cit-gone)
KEPT = ("ref-kept-welcomed", "ref-kept-open")  # another citizen's (cit-kept)
GONE_COMMUNITY = "Cykelholdet"
KEPT_COMMUNITY = "Strikkeklubben Maskerne"
BENLOESE = "benloese"


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with Receiver(failures=10**6) as receiver:  # always fails: its deliveries keep retrying
        yield receiver


@pytest.fixture
async def erasable(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, database_url: str
) -> AsyncIterator[tuple[Service, FakeSms]]:
    """The service with SMS on, on SQLite and on PostgreSQL."""
    box, port = smtp
    gateway = FakeSms()
    settings = make_settings(database_url, nats_clean, port, sms_enabled=True)
    async with ServedApp(build(settings, clock=clock, sms_gateway=gateway)) as served:
        yield Service(served, clock, box, nats_clean), gateway


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return f"{mail['Subject']}\n{part.get_content()}"


def about_the_erased(mails: list[EmailMessage]) -> list[str]:
    """Subjects of the mails that name the erased citizen's community. The dormancy nudge to
    people in Benløse suggests Cykelholdet as a community with room: about the community,
    not the citizen, so it does not count."""
    return [m["Subject"] for m in mails if GONE_COMMUNITY in text_of(m) and "med plads lige nu" not in m["Subject"]]


async def world(service: Service, hooks: Receiver) -> None:
    """The conftest's world, plus Cykelholdet in Benløse, two companions who take SMS (one in
    each area) and a webhook that receives every rule."""
    await service.world()
    await service.send(
        cat.CommunityRegistered(
            community_id="c-cykel",
            organization_id="o-2",
            name=GONE_COMMUNITY,
            categories=["motion"],
            area=BENLOESE,
            kind="permanent",
            accepts_special_needs=True,
            capacity_total=10,
            contact=cat.WelcomeContact(name="Ib", email="ib@cykelholdet.dk"),
        ),
        ref.ReferrerActivated(
            actor_id="amb-sofie",
            role="ambassador",
            area=BENLOESE,
            name="Sofie",
            offers_accompaniment=True,
            contact=ref.WorkContact(email="sofie@example.dk", phone="+4522222222"),
        ),
        ref.ReferrerActivated(
            actor_id="amb-ole",
            role="ambassador",
            area=AREA,
            name="Ole",
            offers_accompaniment=True,
            contact=ref.WorkContact(email="ole@example.dk", phone="+4533333333"),
        ),
    )
    await eventually(lambda: len(service.query(select(store.RecipientRow))) == 6)
    await eventually(lambda: len(service.query(select(store.CommunityRow))) == 2)
    for actor in ("amb-sofie", "amb-ole"):
        async with service.served.client(token("ambassador", actor)) as client:
            chose = await client.put("/v1/preferences", json={"channels": ["sms"]})
            assert chose.status_code == 200, chose.text
    async with service.served.client(token("municipal_system", "system-jobcenter")) as system:
        created = await system.post("/v1/webhooks", json={"url": hooks.url, "rules": []})
        assert created.status_code == 201, created.text


async def two_citizens(service: Service) -> None:
    """Each citizen has a welcomed referral (its 4- and 12-week questions ahead) and an open one
    that needs accompaniment (its 48-hour, 7- and 14-day timers ahead)."""
    await service.send(
        referral_created(GONE[0], citizen_ref="cit-gone", community_id="c-cykel"),
        referral_created(GONE[1], citizen_ref="cit-gone", community_id="c-cykel", needs_accompaniment=True),
        referral_created(KEPT[0], citizen_ref="cit-kept", community_id="c-strik"),
        referral_created(KEPT[1], citizen_ref="cit-kept", community_id="c-strik", needs_accompaniment=True),
        ref.WelcomeConfirmed(referral_id=GONE[0], community_id="c-cykel", confirmed_by="contact"),
        ref.WelcomeConfirmed(referral_id=KEPT[0], community_id="c-strik", confirmed_by="contact"),
    )
    await service.mail_to("ib@cykelholdet.dk", count=2)
    await service.mail_to("mette@ringsted.dk", count=2, subject="Det lykkedes")
    await eventually(lambda: len(service.timers("participation_followup", "scheduled")) == 4)


def hooked_referrals(hooks: Receiver, since: int = 0) -> list[str | None]:
    return [json.loads(body)["referral_id"] for _, body, _ in hooks.requests[since:]]


def hooked_rules(hooks: Receiver) -> list[str]:
    return [json.loads(body)["rule"] for _, body, _ in hooks.requests]


def pending_about(service: Service, referral_id: str) -> list[store.DeliveryRow]:
    return service.query(
        select(store.DeliveryRow)
        .join(store.NudgeRow, store.NudgeRow.id == store.DeliveryRow.nudge_id)
        .where(store.NudgeRow.referral_id == referral_id, store.DeliveryRow.status == "pending")
    )


async def inbox_referrals(service: Service, role: str, actor: str, communities: list[str] | None = None) -> set[str]:
    async with service.served.client(token(role, actor, communities)) as client:
        inbox = (await client.get("/v1/inbox", params={"limit": 500})).json()
    return {message["referral_id"] for message in inbox["messages"] if message["referral_id"]}


async def test_after_an_erasure_nothing_about_the_citizen_is_sent_while_others_timers_fire(
    erasable: tuple[Service, FakeSms], hooks: Receiver
) -> None:
    service, sms = erasable
    await world(service, hooks)
    await two_citizens(service)

    # 22:30 in Copenhagen: Cykelholdet proposes a first visit. Mette's inbox has it at once,
    # her e-mail waits for the morning (quiet hours) and the webhook's first call fails.
    await eventually(service.idle)
    service.clock.set(datetime(2024, 3, 12, 21, 30, tzinfo=UTC))
    visit = datetime(2024, 3, 15, 16, 0, tzinfo=UTC)
    await service.send(ref.FirstVisitProposed(referral_id=GONE[1], visit_at=visit, proposed_by="community:c-cykel"))
    await eventually(lambda: "visit_proposed" in hooked_rules(hooks))
    await eventually(service.idle)
    queued = pending_about(service, GONE[1])
    assert {(d.channel, d.attempts > 0) for d in queued} >= {("email", False), ("webhook", True)}
    assert set(GONE) <= await inbox_referrals(service, "professional", "prof-mette")
    assert service.query(
        select(store.TimerRow).where(store.TimerRow.referral_id.in_(GONE), store.TimerRow.status == "scheduled")
    )

    # Half a minute later (the webhook's retry is due in a minute) the referrals service erases
    # cit-gone: the open referral is cancelled, then the citizen.
    service.clock.advance(timedelta(seconds=30))
    await service.send(
        ref.ReferralCancelled(referral_id=GONE[1], reason="erased"), ref.CitizenErased(citizen_ref="cit-gone")
    )

    def forgotten() -> bool:
        about = service.query(select(store.NudgeRow.id).where(store.NudgeRow.referral_id.in_(GONE)))
        return not about and all(
            r.erased_at for r in service.query(select(store.ReferralRow).where(store.ReferralRow.referral_id.in_(GONE)))
        )

    await eventually(forgotten)
    mails, texts, calls = len(service.mail.messages), len(sms.sent), len(hooks.requests)
    erased_at = service.clock.now()

    # Every timer of both referrals is cancelled (the welcomed one's questions too), every
    # delivery about them is gone, and no inbox holds a message about them.
    timers = service.query(select(store.TimerRow).where(store.TimerRow.referral_id.in_(GONE)))
    assert {t.rule for t in timers} >= {"participation_followup", "accompaniment_needed", "welcome_escalation"}
    assert {t.status for t in timers} == {"cancelled"}
    assert all(pending_about(service, rid) == [] for rid in GONE)
    assert not await inbox_referrals(service, "professional", "prof-mette") & set(GONE)
    assert not await inbox_referrals(service, "community_contact", "contact-ib", ["c-cykel"]) & set(GONE)

    # Past every timer, a fortnight at a time (each step of a question's chain is counted from
    # when the step before went out): the morning (the queued e-mail's time), the retry, 48
    # hours, 7 and 14 days, the questions at 4 and 12 weeks with their reminders and word to
    # the guides, and the Monday digests on the way.
    await service.advance(hours=9)
    for _ in range(8):
        await service.advance(days=14)
    assert service.clock.now() - erased_at > timedelta(days=84 + 14 + 7)
    await eventually(service.idle)  # everything due has gone

    assert about_the_erased(service.mail.messages[mails:]) == []
    assert service.mail.to("ib@cykelholdet.dk")[2:] == []
    assert service.mail.to("karen@example.dk", "Kan du følge") == []  # asked only for cit-gone
    assert [text for _, text in sms.sent[texts:] if GONE_COMMUNITY in text or "følge" in text] == [
        text for phone, text in sms.sent[texts:] if phone == "+4533333333" and KEPT_COMMUNITY in text
    ]
    assert set(hooked_referrals(hooks, calls)) & set(GONE) == set()
    assert service.query(select(store.NudgeRow).where(store.NudgeRow.referral_id.in_(GONE))) == []
    assert {t.status for t in service.query(select(store.TimerRow).where(store.TimerRow.referral_id.in_(GONE)))} == {
        "cancelled"
    }

    # The other citizen's timers all fired, by every channel.
    subjects = [m["Subject"] for m in service.mail.to("mette@ringsted.dk")]
    assert f"Hvordan gik det med henvisningen til {KEPT_COMMUNITY}?" in subjects
    assert subjects.count(f"Deltager borgeren stadig i {KEPT_COMMUNITY}?") == 2  # 4 and 12 weeks
    assert subjects.count(f"Påmindelse: Deltager borgeren stadig i {KEPT_COMMUNITY}?") == 2
    guides = [m["Subject"] for m in service.mail.to("anne@faellesskabsby.dk")]
    assert f"Ingen velkomst endnu efter 14 dage: {KEPT_COMMUNITY}" in guides
    assert f"Ingen svar på opfølgning: {KEPT_COMMUNITY} efter 12 uger" in guides
    assert [phone for phone, text in sms.sent if KEPT_COMMUNITY in text] == ["+4533333333"]  # Ole, at 48 hours
    assert set(hooked_referrals(hooks, calls)) >= set(KEPT)
    digests = [text_of(m) for m in service.mail.to("mette@ringsted.dk", "Din uge med Vejviser")]
    assert digests and KEPT_COMMUNITY in digests[0]
    assert not any(GONE_COMMUNITY in digest for digest in digests)


async def test_late_and_replayed_events_about_an_erased_citizen_plan_nothing(
    erasable: tuple[Service, FakeSms], hooks: Receiver
) -> None:
    service, sms = erasable
    await world(service, hooks)
    await two_citizens(service)
    await service.send(ref.CitizenErased(citizen_ref="cit-gone"))
    await eventually(lambda: not service.query(select(store.NudgeRow).where(store.NudgeRow.referral_id.in_(GONE))))
    mails, calls = len(service.mail.messages), len(hooks.requests)

    # Redelivered under new event ids, or arriving late: each is ignored.
    await service.send(
        referral_created(GONE[1], citizen_ref="cit-gone", community_id="c-cykel", needs_accompaniment=True),
        ref.WelcomeConfirmed(referral_id=GONE[1], community_id="c-cykel", confirmed_by="contact"),
        ref.NoShowReported(referral_id=GONE[0], reported_by="community:c-cykel"),
        ref.FirstVisitProposed(
            referral_id=GONE[1], visit_at=service.clock.now() + timedelta(days=2), proposed_by="community:c-cykel"
        ),
        ref.CitizenErased(citizen_ref="cit-gone"),  # erasing twice is harmless
        referral_created("ref-kept-later", citizen_ref="cit-kept", community_id="c-strik"),
    )
    await service.mail_to("birthe@maskerne.dk", count=3)  # the last event was handled
    await service.advance(days=100)
    assert about_the_erased(service.mail.messages[mails:]) == []
    assert set(hooked_referrals(hooks, calls)) & set(GONE) == set()
    assert sms.sent == [(phone, text) for phone, text in sms.sent if GONE_COMMUNITY not in text]
    assert service.query(select(store.NudgeRow).where(store.NudgeRow.referral_id.in_(GONE))) == []


async def test_an_erasure_in_the_batch_that_made_the_referral_decides_nothing(
    erasable: tuple[Service, FakeSms], hooks: Receiver
) -> None:
    """The referral, its welcome and the erasure in one batch of the consumer (the handler is
    called with them, as the inbox would): no message is even recorded."""
    service, _ = erasable
    await world(service, hooks)
    app = service.served.app.state.notifications
    now = service.clock.now()
    pairs = [
        (envelope, envelope.decode())
        for envelope in (
            wrap(referral_created("ref-brief", citizen_ref="cit-brief", community_id="c-cykel"), now),
            wrap(ref.WelcomeConfirmed(referral_id="ref-brief", community_id="c-cykel", confirmed_by="x"), now),
            wrap(ref.CitizenErased(citizen_ref="cit-brief"), now),
        )
    ]
    service.served.runtime.write(lambda uow: on_referrals(app, uow, pairs))
    assert service.query(select(store.NudgeRow).where(store.NudgeRow.referral_id == "ref-brief")) == []
    timers = service.query(select(store.TimerRow).where(store.TimerRow.referral_id == "ref-brief"))
    assert timers and {t.status for t in timers} == {"cancelled"}
    [tombstone] = service.query(select(store.ReferralRow).where(store.ReferralRow.referral_id == "ref-brief"))
    assert tombstone.erased_at == now and tombstone.citizen_ref == "cit-brief"
    await service.advance(days=100)
    assert service.mail.to("ib@cykelholdet.dk") == []


async def test_a_withdrawn_cancellation_ends_the_timers_and_keeps_the_messages(
    erasable: tuple[Service, FakeSms], hooks: Receiver
) -> None:
    """Today's behaviour for a referral a person withdrew: its timers end, what was said stays
    in the inbox, and the week's digest tells the referrer it was cancelled."""
    service, _ = erasable
    await world(service, hooks)
    await two_citizens(service)
    await service.send(ref.ReferralCancelled(referral_id=GONE[1]))
    await eventually(lambda: service.timers("accompaniment_needed", "cancelled"))
    assert service.query(select(store.NudgeRow).where(store.NudgeRow.referral_id == GONE[1]))
    assert GONE[1] in await inbox_referrals(service, "community_contact", "contact-ib", ["c-cykel"])
    monday = local(service.clock.now())
    await eventually(service.idle)
    service.clock.set(monday.replace(hour=8, minute=1) + timedelta(days=(7 - monday.weekday()) % 7 or 7))
    await service.settle()
    [digest] = await service.mail_to("mette@ringsted.dk", subject="Din uge med Vejviser")
    assert f"{GONE_COMMUNITY} – annulleret" in text_of(digest)
