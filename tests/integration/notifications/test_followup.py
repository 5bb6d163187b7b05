"""After the referral reached the community, over a real nats-server and a real SMTP server:
the proposed first visit, the no-show, and the follow-up questions 4 and 12 weeks after the
welcome with their one-click answers, the reminder and word to the guides (a fake clock
moves time; nothing sleeps for weeks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from services.notifications.main import build
from shared.clock import FakeClock
from shared.events import referrals as ref
from shared.links import Link, verify_link
from shared.principal import Role
from tests.helpers import MailBox, ServedApp, eventually

from .conftest import WEB_URL, WELCOME_SECRET, Service, make_settings, referral_created

QUESTION = "Deltager borgeren stadig i Strikkeklubben Maskerne?"


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def one_click(mail: EmailMessage, label: str, now: datetime) -> Link:
    """The link behind a '- label: url' line of the mail, verified as the web client does."""
    [url] = [line.rsplit(": ", 1)[1] for line in text_of(mail).splitlines() if line.startswith(f"- {label}: ")]
    assert url.startswith(f"{WEB_URL}/l/") and f'href="{url}"' in html_of(mail)
    return verify_link(WELCOME_SECRET, url.rsplit("/", 1)[1], now)


def welcomed(referral_id: str = "ref-1") -> ref.WelcomeConfirmed:
    return ref.WelcomeConfirmed(referral_id=referral_id, community_id="c-strik", confirmed_by="contact")


async def welcomed_29_days_ago(service: Service) -> datetime:
    """A referral made 35 days ago and welcomed 29 days ago, ingested now (back-dated)."""
    await service.world()
    now = service.clock.now()
    await service.send(referral_created(), at=now - timedelta(days=35))
    await service.send(welcomed(), at=now - timedelta(days=29))
    return now


async def test_a_back_dated_welcome_asks_the_4_week_question_at_once_with_links_that_verify(service: Service) -> None:
    now = await welcomed_29_days_ago(service)
    [question] = await service.mail_to("mette@ringsted.dk", subject=QUESTION)
    assert "For 4 uger siden blev borgeren, du henviste, budt velkommen" in text_of(question)
    yes = one_click(question, "Ja, borgeren deltager stadig", now)
    no = one_click(question, "Nej, borgeren deltager ikke længere", now)
    assert (yes.action, no.action) == ("participation:4:yes", "participation:4:no")
    for link in (yes, no):
        assert (link.subject_id, link.actor_id, link.role, link.communities) == (
            "ref-1",
            "prof-mette",
            Role.professional,
            (),
        )
    assert f"{WEB_URL}/henvisninger/ref-1" in text_of(question)
    assert "cit-7f3a" not in text_of(question) + html_of(question)
    # The 12-week question waits for its time; the reminder of the 4-week one for a week.
    assert {t.subject_id for t in service.timers("participation_followup", "scheduled")} == {"ref-1@12w"}
    assert {t.subject_id for t in service.timers("participation_reminder", "scheduled")} == {"ref-1@4w"}


async def test_an_answer_ends_its_reminder_and_a_no_ends_the_later_question(service: Service) -> None:
    await welcomed_29_days_ago(service)
    await service.mail_to("mette@ringsted.dk", subject=QUESTION)
    [asked] = service.nudges("participation_followup", "prof-mette")
    assert asked.read_at is None
    await service.send(ref.ParticipationConfirmed(referral_id="ref-1", weeks_after=4, still_participating=False))
    await eventually(lambda: service.timers("participation_reminder", "cancelled"))
    assert {t.subject_id for t in service.timers("participation_followup", "cancelled")} == {"ref-1@12w"}
    # Answered (by its link, or on the referral page): the question leaves the unread count.
    [answered] = service.nudges("participation_followup", "prof-mette")
    assert answered.read_at is not None
    await service.advance(days=60)
    assert len(service.mail.to("mette@ringsted.dk", QUESTION)) == 1
    assert service.mail.to("mette@ringsted.dk", "Påmindelse") == []
    assert service.mail.to("anne@faellesskabsby.dk") == []


async def test_an_unanswered_question_is_reminded_once_then_the_guides_hear(service_on_both: Service) -> None:
    service = service_on_both
    await service.world()
    await service.send(referral_created())
    await service.advance(days=2)
    await service.send(welcomed())
    await service.mail_to("mette@ringsted.dk", subject="Det lykkedes")
    await service.advance(days=27, hours=23)
    assert service.mail.to("mette@ringsted.dk", QUESTION) == []

    await service.advance(hours=1, minutes=1)
    await service.mail_to("mette@ringsted.dk", subject=QUESTION)
    await service.advance(days=7)
    [reminder] = await service.mail_to("mette@ringsted.dk", subject="Påmindelse: " + QUESTION)
    assert one_click(reminder, "Ja, borgeren deltager stadig", service.clock.now()).action == "participation:4:yes"
    assert service.mail.to("anne@faellesskabsby.dk") == []

    await service.advance(days=7)
    [guides] = await service.mail_to("anne@faellesskabsby.dk")
    assert guides["Subject"] == "Ingen svar på opfølgning: Strikkeklubben Maskerne efter 4 uger"
    assert "Mette har ikke svaret" in text_of(guides) and f"{WEB_URL}/henvisninger/ref-1" in text_of(guides)
    await service.advance(days=14)
    assert len(service.mail.to("mette@ringsted.dk", "Påmindelse")) == 1  # once
    assert len(service.mail.to("anne@faellesskabsby.dk")) == 1

    # The 12-week question comes 84 days after the welcome.
    await service.advance(days=84 - 28 - 7 - 7 - 14)
    asked = await service.mail_to("mette@ringsted.dk", count=3, subject=QUESTION)  # and the reminder
    [later] = [mail for mail in asked if mail["Subject"] == QUESTION][1:]
    assert "For 12 uger siden" in text_of(later)
    assert one_click(later, "Nej, borgeren deltager ikke længere", service.clock.now()).action == "participation:12:no"


async def test_a_no_show_tells_the_referrer_how_to_refer_again_and_ends_every_timer(service: Service) -> None:
    await service.world()
    await service.send(referral_created(needs_accompaniment=True))
    await service.mail_to("birthe@maskerne.dk")
    await service.send(ref.NoShowReported(referral_id="ref-1", reported_by="community:c-strik"))
    [told] = await service.mail_to("mette@ringsted.dk")
    assert told["Subject"] == "Borgeren kom ikke til Strikkeklubben Maskerne"
    assert f"{WEB_URL}/henvisninger/ref-1" in text_of(told)
    assert f'href="{WEB_URL}/henvisninger/ref-1"' in html_of(told)
    await eventually(lambda: len(service.timers("welcome_escalation", "cancelled")) == 1)
    assert service.timers("accompaniment_needed", "cancelled") and service.timers("welcome_followup", "cancelled")
    await service.advance(days=15)
    assert service.mail.to("mette@ringsted.dk", "Hvordan gik") == []
    assert service.mail.to("anne@faellesskabsby.dk") == [] and service.mail.to("lars@example.dk") == []


async def test_a_cancellation_after_the_welcome_ends_the_follow_up(service: Service) -> None:
    await service.world()
    await service.send(referral_created())
    await service.send(welcomed())
    await eventually(lambda: len(service.timers("participation_followup", "scheduled")) == 2)
    await service.send(ref.ReferralCancelled(referral_id="ref-1"))
    await eventually(lambda: len(service.timers("participation_followup", "cancelled")) == 2)
    await service.advance(days=30)
    assert service.mail.to("mette@ringsted.dk", QUESTION) == []


async def test_a_proposed_visit_reaches_the_referrer_and_the_companion_in_copenhagen_time(service: Service) -> None:
    await service.world()
    await service.send(referral_created(needs_accompaniment=True))
    await service.send(ref.AccompanimentArranged(referral_id="ref-1", companion_id="amb-lars"))
    visit = datetime(2024, 3, 15, 16, 30, tzinfo=UTC)  # 17.30 in Copenhagen
    await service.send(ref.FirstVisitProposed(referral_id="ref-1", visit_at=visit, proposed_by="community:c-strik"))
    subject = "Forslag til første besøg i Strikkeklubben Maskerne: 15. marts 2024 kl. 17.30"
    [referrer] = await service.mail_to("mette@ringsted.dk", subject=subject)
    [companion] = await service.mail_to("lars@example.dk", subject=subject)
    assert "Giv gerne borgeren" in text_of(referrer)
    assert "Du har sagt ja til at følge borgeren" in text_of(companion)

    moved = visit + timedelta(days=1)  # a new proposal replaces the first: one more message each
    await service.send(ref.FirstVisitProposed(referral_id="ref-1", visit_at=moved, proposed_by="guide-anne"))
    await service.mail_to("lars@example.dk", count=2, subject="Forslag til første besøg")
    assert len(service.nudges("visit_proposed")) == 4


@pytest.fixture
async def asking_the_contact(
    nats_clean: str, smtp: tuple[MailBox, int], clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Service]:
    box, port = smtp
    settings = make_settings(f"sqlite:///{tmp_path / 'n.db'}", nats_clean, port, followup_recipient="contact")
    async with ServedApp(build(settings, clock=clock)) as served:
        yield Service(served, clock, box, nats_clean)


async def test_with_followup_recipient_contact_the_community_is_asked_with_its_own_links(
    asking_the_contact: Service,
) -> None:
    service = asking_the_contact
    now = await welcomed_29_days_ago(service)
    [question] = await service.mail_to("birthe@maskerne.dk", subject=QUESTION)
    assert "For 4 uger siden bød I en ny deltager velkommen" in text_of(question)
    yes = one_click(question, "Ja, borgeren deltager stadig", now)
    assert (yes.action, yes.subject_id) == ("participation:4:yes", "ref-1")
    assert (yes.actor_id, yes.role, yes.communities) == ("community:c-strik", Role.community_contact, ("c-strik",))
    assert service.mail.to("mette@ringsted.dk", QUESTION) == []
