"""Issue 12's follow-up journey through the running system and Chromium: a municipal system
reports (back-dated) a referral by Jens Mortensen that a reading club welcomed 29
days ago; the 4-week question "Deltager borgeren stadig i …?" reaches Jens by mail at once,
with one-click answers signed for him; the "ja" link, opened in a browser where nobody is
logged in, asks once more and its button records the answer: the referrals service shows the
participation after 4 weeks, the analytics service counts it, and Jens finds the question in
Beskeder too. axe-core on the link's page, before and after, and on the inbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from services.web.devidp.personas import BY_KEY
from shared.events import Envelope, Event
from shared.events.referrals import CitizenRegistered, ReferralCreated, WelcomeConfirmed
from shared.links import Link, verify_link
from tests.helpers import eventually, tls, token
from tests.integration.web.conftest import (
    ADMIN_TOKEN,
    AREA,
    EMAILS,
    GUIDE_TOKEN,
    WebSystem,
    _community,
    axe_check,
    links_in,
    login_as,
    no_foreign_requests,
)

pytestmark = pytest.mark.browser
REFERRER = "professional-2"
SYSTEM = token("municipal_system", "system-jobcenter")
CLUB = "Læseklubben Vestervang"
QUESTION = f"Deltager borgeren stadig i {CLUB}?"


def own_community(web_system: WebSystem, name: str) -> str:
    """A community of the test's own, with its own contact, so that its referrals use no other
    test's mail (a recipient gets at most ten mails a day). Its id, once referrals knows it."""
    contact = {"name": "Kim Kontakt", "email": f"kontakt-{uuid.uuid4().hex[:8]}@forening.example.dk"}
    with httpx.Client(base_url=web_system.catalogue.base_url, timeout=30, verify=tls()) as client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        organization = client.post("/v1/organizations", json={"name": f"Foreningen for {name}"}, headers=headers)
        body = _community(organization.json()["id"], name, "Vi mødes og snakker.", 8, "open") | {"contact": contact}
        made = client.post("/v1/communities", json=body, headers=headers)
    assert made.status_code == 201, made.text
    community_id: str = made.json()["id"]

    async def known_to_referrals() -> bool:
        async with web_system.referrals.client(GUIDE_TOKEN) as client:
            listed = (await client.get("/v1/communities")).json()
        return community_id in {item["community_id"] for item in listed}

    web_system.run(eventually(known_to_referrals, timeout=20))
    return community_id


def cloudevent(event: Event, time: datetime) -> dict[str, Any]:
    # The system states the citizen's consent, as ingestion requires for attributes.
    envelope = Envelope.wrap(event, source="/systems/jobcenter", time=time, id=str(uuid.uuid4()))
    return {**envelope.to_dict(), "consentdate": "2024-01-01"}


def ingest(web_system: WebSystem, batch: list[dict[str, Any]]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {SYSTEM}", "Content-Type": "application/cloudevents-batch+json"}
    with httpx.Client(base_url=web_system.referrals.base_url, timeout=30, verify=tls()) as client:
        response = client.post("/v1/events", json=batch, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def welcomed_four_weeks_ago(web_system: WebSystem, referrer_id: str, community_id: str, days: int = 29) -> str:
    """A referral reported by a municipal system: created and welcomed `days` ago. Its id."""
    referral_id, citizen_ref = str(uuid.uuid4()), str(uuid.uuid4())
    welcomed_at = datetime.now(UTC) - timedelta(days=days)
    batch = [
        cloudevent(CitizenRegistered(citizen_ref=citizen_ref, area=AREA), welcomed_at - timedelta(hours=3)),
        cloudevent(
            ReferralCreated(
                referral_id=referral_id,
                citizen_ref=citizen_ref,
                community_id=community_id,
                referrer_id=referrer_id,
                channel="system",
            ),
            welcomed_at - timedelta(hours=2),
        ),
        cloudevent(
            WelcomeConfirmed(referral_id=referral_id, community_id=community_id, confirmed_by="contact-strikkeklub"),
            welcomed_at,
        ),
    ]
    result = ingest(web_system, batch)
    assert (result["accepted"], result["rejected"]) == (3, 0), result
    return referral_id


def participating_after_four_weeks(web_system: WebSystem) -> int:
    metrics = web_system.api(web_system.analytics, "GET", "/v1/metrics", params={"suppress": "false"})
    return int(metrics["referrals"]["participating_4w"])


def answer_links(web_system: WebSystem, mail: EmailMessage) -> dict[str, tuple[Link, str]]:
    """The mail's one-click links by action, each verified with the web's secret."""
    secret = str(web_system.web.app.state.pages.settings.link_signing_key)
    found = {}
    for url in links_in(mail):
        if "/l/" in url:
            link = verify_link(secret, url.rsplit("/l/", 1)[1], datetime.now(UTC))
            found[link.action] = (link, url)
    return found


def test_the_four_week_question_is_answered_by_mail_and_counted(page: Any, web_system: WebSystem) -> None:
    referrer = BY_KEY[REFERRER]
    counted_before = participating_after_four_weeks(web_system)
    referral_id = welcomed_four_weeks_ago(web_system, referrer.actor_id, own_community(web_system, CLUB))

    # The question reaches the referrer at once (the welcome is 29 days old), by mail.
    def question() -> EmailMessage | None:
        for mail in web_system.mail.to(EMAILS[REFERRER], QUESTION):
            if any(url.endswith(f"/henvisninger/{referral_id}") for url in links_in(mail)):
                return mail
        return None

    mail = web_system.run(eventually(question, timeout=30))
    assert mail["Subject"] == QUESTION
    links = answer_links(web_system, mail)
    assert {"participation:4:yes", "participation:4:no"} <= set(links), sorted(links)
    yes, yes_url = links["participation:4:yes"]
    assert (yes.subject_id, yes.actor_id, yes.role) == (referral_id, referrer.actor_id, "professional")

    # Opened in a browser where nobody is logged in: the page asks, the button answers.
    foreign = no_foreign_requests(page)
    page.goto(yes_url)
    expect(page.get_by_text(QUESTION)).to_be_visible()
    axe_check(page, "follow-up link")
    page.get_by_role("button", name="Ja, borgeren deltager stadig").click()
    expect(page.get_by_text("Tak for svaret!")).to_be_visible()
    axe_check(page, "follow-up link answered")

    referral = web_system.api(web_system.referrals, "GET", f"/v1/referrals/{referral_id}")
    assert referral["participation"] == {"4": True}
    assert referral["status"] == "participating"

    async def counted() -> int | None:
        async with web_system.analytics.client(GUIDE_TOKEN) as client:
            response = await client.get("/v1/metrics", params={"suppress": "false"})
        now = int(response.json()["referrals"]["participating_4w"])
        return now if now == counted_before + 1 else None

    assert web_system.run(eventually(counted, timeout=30)) == counted_before + 1

    # The same question waits in the referrer's inbox on the web.
    login_as(page, REFERRER, "/beskeder")
    message = page.locator("article", has=page.locator(f'a[href="/henvisninger/{referral_id}"]')).filter(
        has=page.get_by_role("heading", name=QUESTION)
    )
    expect(message).to_have_count(1)
    expect(message).to_contain_text("Svar med et klik")
    # The one-click answers read "Åbn linket" after what they do, not as their long token.
    expect(message.get_by_role("link", name="Åbn linket")).to_have_count(2)
    axe_check(page, "inbox with the follow-up question")
    assert foreign == []


def test_a_follow_up_nobody_answered_is_shown_to_the_guides(
    page: Any, new_page: Callable[..., Any], web_system: WebSystem
) -> None:
    """Welcomed 50 days ago and never answered: past the 4-week question and its two weeks of
    mail and reminder, so it is the guides' to chase, on their worklist."""
    referrer = BY_KEY[REFERRER]
    club = "Fortællecaféen Vestervang"
    referral_id = welcomed_four_weeks_ago(web_system, referrer.actor_id, own_community(web_system, club), days=50)
    assert web_system.api(web_system.referrals, "GET", f"/v1/referrals/{referral_id}")["follow_up_due"] == 4

    login_as(page, "guide", "/henvisninger")
    section = page.locator("section", has=page.get_by_role("heading", name="Opfølgning uden svar"))
    item = section.get_by_role("listitem").filter(has=page.locator(f'a[href="/henvisninger/{referral_id}"]'))
    expect(item).to_contain_text(f"{club}: 4 uger efter velkomsten, henvist af {referrer.name}")
    axe_check(page, "worklist with an unanswered follow-up")

    # Professionals see no such section: chasing follow-ups is the guides' work.
    professional = new_page()
    login_as(professional, REFERRER, "/henvisninger")
    expect(professional.get_by_role("heading", name="Mine henvisninger")).to_be_visible()
    expect(professional.get_by_role("heading", name="Opfølgning uden svar")).to_have_count(0)
