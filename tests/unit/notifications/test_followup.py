"""The rules after the referral reached the community, pure: the first visit, the no-show, the
4- and 12-week questions with their reminder and word to the guides; and the one-click links
their messages carry, signed when rendered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications import followup
from services.notifications.domain import (
    Community,
    Fired,
    Recipient,
    Referral,
    Rule,
    Thresholds,
    participation_subject,
    participation_timer_keys,
    weeks_of,
    welcome_timer_keys,
)
from services.notifications.messages import Messages, stored
from services.notifications.rules import fire_welcome_contact
from shared.links import FOLLOW_UP_VALIDITY, LINK_VALIDITY, verify_link
from shared.principal import Role

TH = Thresholds()
NOW = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)
COMMUNITY = Community("c1", "Strikkeklubben", area="ringsted_syd")
METTE = Recipient("prof-1", "professional", name="Mette")
SECRET = "unit-link-secret"
WEB = "https://vejviser.example"


def referral(**kw: object) -> Referral:
    return Referral("r1", "prof-1", "c1", NOW - timedelta(days=40), **kw)  # type: ignore[arg-type]


def welcomed(at: datetime = NOW - timedelta(days=28), **kw: object) -> Referral:
    return referral(welcomed_at=at, **kw)


def ask(
    rule: Rule, about: Referral, referrer: Recipient | None = METTE, weeks: int = 4, recipient: str = "referrer"
) -> Fired:
    return followup.fire_participation_question(rule, about, COMMUNITY, referrer, weeks, recipient, NOW, TH)


# ---------------------------------------------------------------------------- the first visit


def test_a_proposed_visit_tells_the_referrer_and_the_companion_but_not_the_proposer() -> None:
    visit = NOW + timedelta(days=3)
    told = followup.on_visit_proposed(referral(companion_id="amb-1"), COMMUNITY, visit, "community:c1", NOW, NOW, TH)
    assert [(n.recipient_id, n.context["as_companion"]) for n in told] == [("prof-1", False), ("amb-1", True)]
    assert all(n.rule is Rule.visit_proposed and n.context["visit_at"] == visit for n in told)
    by_guide_who_referred = followup.on_visit_proposed(referral(), COMMUNITY, visit, "prof-1", NOW, NOW, TH)
    assert by_guide_who_referred == []


def test_a_new_proposal_is_a_new_message_and_the_same_one_is_not() -> None:
    first = followup.on_visit_proposed(referral(), COMMUNITY, NOW + timedelta(days=3), "c", NOW, NOW, TH)
    moved = followup.on_visit_proposed(referral(), COMMUNITY, NOW + timedelta(days=4), "c", NOW, NOW, TH)
    again = followup.on_visit_proposed(referral(), COMMUNITY, NOW + timedelta(days=3), "c", NOW, NOW, TH)
    assert first[0].dedup_key != moved[0].dedup_key and first[0].dedup_key == again[0].dedup_key


def test_no_word_of_a_visit_already_past_of_history_or_of_an_ended_referral() -> None:
    future = NOW + timedelta(days=1)
    assert followup.on_visit_proposed(referral(), COMMUNITY, NOW - timedelta(hours=1), "c", NOW, NOW, TH) == []
    old = NOW - timedelta(days=31)
    assert followup.on_visit_proposed(referral(), COMMUNITY, future, "c", old, NOW, TH) == []
    assert followup.on_visit_proposed(referral(no_show_at=NOW), COMMUNITY, future, "c", NOW, NOW, TH) == []


def test_a_no_show_tells_the_referrer_unless_it_is_history() -> None:
    [told] = followup.on_no_show(referral(no_show_at=NOW), COMMUNITY, NOW, NOW, TH)
    assert told.rule is Rule.no_show and told.recipient_id == "prof-1" and told.context["referral_id"] == "r1"
    assert followup.on_no_show(referral(), COMMUNITY, NOW - timedelta(days=40), NOW, TH) == []


def test_an_ended_referral_is_not_open() -> None:
    assert not referral(no_show_at=NOW).is_open and referral(no_show_at=NOW).ended
    assert not welcomed().is_open and not welcomed().ended


# ---------------------------------------------------------------------------- participation


def test_questions_at_4_and_12_weeks_from_the_welcome_event_time() -> None:
    at = NOW - timedelta(days=1)
    timers = followup.participation_timers(welcomed(at), at, NOW, TH)
    assert [(t.rule, t.subject_id, t.due_at, t.referral_id) for t in timers] == [
        (Rule.participation_followup, "r1@4w", at + timedelta(days=28), "r1"),
        (Rule.participation_followup, "r1@12w", at + timedelta(days=84), "r1"),
    ]
    assert weeks_of("r1@12w") == 12 and participation_subject("r1", 4) == "r1@4w"


def test_a_back_dated_welcome_asks_a_passed_question_at_once_but_not_one_that_is_history() -> None:
    four_weeks_ago = NOW - timedelta(days=29)
    [week_4, week_12] = followup.participation_timers(welcomed(four_weeks_ago), four_weeks_ago, NOW, TH)
    assert week_4.due_at <= NOW < week_12.due_at
    imported = NOW - timedelta(days=70)  # the 4-week question is 42 days old: history
    assert [t.subject_id for t in followup.participation_timers(welcomed(imported), imported, NOW, TH)] == ["r1@12w"]


def test_the_question_goes_to_the_referrer_with_their_links_and_sets_the_reminder() -> None:
    fired = followup.fire_participation_question(
        Rule.participation_followup, welcomed(), COMMUNITY, METTE, 4, followup.REFERRER, NOW, TH
    )
    [asked] = fired.notify
    assert asked.rule is Rule.participation_followup and asked.recipient_id == "prof-1"
    assert asked.subject_id == "r1@4w" and asked.context["weeks"] == 4 and not asked.context["to_contact"]
    assert asked.context["holder"] == {"actor_id": "prof-1", "role": "professional", "communities": []}
    assert [(t.rule, t.subject_id, t.due_at) for t in fired.then] == [
        (Rule.participation_reminder, "r1@4w", NOW + timedelta(days=7))
    ]
    assert fired.again_at is None


def test_with_followup_recipient_contact_the_community_is_asked_and_holds_the_links() -> None:
    fired = followup.fire_participation_question(
        Rule.participation_followup, welcomed(), COMMUNITY, METTE, 12, followup.CONTACT, NOW, TH
    )
    [asked] = fired.notify
    assert asked.recipient_id == "community:c1" and asked.context["to_contact"]
    assert asked.context["holder"] == {"actor_id": "community:c1", "role": "community_contact", "communities": ["c1"]}


def test_an_unknown_referrer_is_asked_without_one_click_links() -> None:
    [asked] = followup.fire_participation_question(
        Rule.participation_followup, welcomed(), COMMUNITY, None, 4, "referrer", NOW, TH
    ).notify
    assert asked.recipient_id == "prof-1" and asked.context["holder"] is None


def test_the_reminder_comes_once_then_the_guides_hear_nobody_answered() -> None:
    reminder = followup.fire_participation_question(
        Rule.participation_reminder, welcomed(), COMMUNITY, METTE, 4, "referrer", NOW, TH
    )
    [again] = reminder.notify
    assert again.rule is Rule.participation_reminder and again.recipient_id == "prof-1"
    [(rule, due)] = [(t.rule, t.due_at) for t in reminder.then]
    assert rule is Rule.participation_unanswered and due == NOW + timedelta(days=7)

    directory = [METTE, Recipient("g1", "guide"), Recipient("g2", "guide"), Recipient("amb", "ambassador")]
    unanswered = followup.fire_participation_unanswered(welcomed(), COMMUNITY, directory, 4, "referrer")
    assert [n.recipient_id for n in unanswered.notify] == ["g1", "g2"] and unanswered.then == []
    assert unanswered.notify[0].context["asked_name"] == "Mette"
    by_contact = followup.fire_participation_unanswered(welcomed(), COMMUNITY, directory, 4, "contact")
    assert by_contact.notify[0].context["asked_name"] == "Strikkeklubben"


def test_nothing_is_asked_about_a_referral_that_ended_or_was_never_welcomed() -> None:
    for ended in (welcomed(no_show_at=NOW), welcomed(cancelled_at=NOW), referral()):
        assert (
            followup.fire_participation_question(
                Rule.participation_followup, ended, COMMUNITY, METTE, 4, "referrer", NOW, TH
            ).notify
            == []
        )
        assert (
            followup.fire_participation_question(
                Rule.participation_reminder, ended, COMMUNITY, METTE, 4, "referrer", NOW, TH
            ).notify
            == []
        )
        assert followup.fire_participation_unanswered(ended, COMMUNITY, [Recipient("g", "guide")], 4, "x").notify == []


def test_timer_keys_name_every_timer_a_referral_can_have() -> None:
    assert len(welcome_timer_keys("r1")) == 4
    assert participation_timer_keys("r1", [12]) == [
        (Rule.participation_followup, "r1@12w"),
        (Rule.participation_reminder, "r1@12w"),
        (Rule.participation_unanswered, "r1@12w"),
    ]


# ---------------------------------------------------------------------------- one-click links


def _links(text: str) -> dict[str, str]:
    """'- label: url' lines of a plain-text message, by label."""
    return {
        line[2:].rsplit(": ", 1)[0]: line.rsplit(": ", 1)[1]
        for line in text.splitlines()
        if line.startswith("- ") and f"{WEB}/l/" in line
    }


def test_the_welcome_contact_mail_carries_a_signed_link_for_every_answer() -> None:
    [notify] = fire_welcome_contact(Referral("r1", "prof-1", "c1", NOW), COMMUNITY, NOW, TH).notify
    rendered = Messages(WEB, link_secret=SECRET).render(notify.rule, notify.context)
    links = _links(rendered.text)
    expected = {
        "Vi har taget imod henvisningen": ("accept", "r1"),
        "Foreslå et første besøg": ("propose_visit", "r1"),
        "Borgeren er budt velkommen": ("welcome", "r1"),
        "Borgeren kom ikke": ("no_show", "r1"),
        "Vi er fulde": ("reject:full", "r1"),
        "Det passer ikke hos os": ("reject:not_suitable", "r1"),
        "Vi kan ikke få kontakt": ("reject:no_contact", "r1"),
        "Vi er fulde for nu (kapacitet)": ("capacity:full", "c1"),
        "Pause mails": ("pause", "c1"),
    }
    assert set(links) == set(expected)
    for label, (action, subject) in expected.items():
        link = verify_link(SECRET, links[label].rsplit("/", 1)[1], NOW)
        assert (link.action, link.subject_id) == (action, subject), label
        assert (link.actor_id, link.role, link.communities) == ("community:c1", Role.community_contact, ("c1",))
        assert link.expires_at == NOW + LINK_VALIDITY
        assert f'href="{links[label]}">{label}</a>' in rendered.html
    assert "Strikkeklubben" in rendered.text and "cit-" not in rendered.text


def test_the_question_carries_yes_and_no_links_for_its_recipient() -> None:
    fired = followup.fire_participation_question(
        Rule.participation_followup, welcomed(), COMMUNITY, METTE, 12, "referrer", NOW, TH
    )
    [asked] = fired.notify
    rendered = Messages(WEB, link_secret=SECRET).render(asked.rule, asked.context)
    assert rendered.subject == "Deltager borgeren stadig i Strikkeklubben?"
    links = _links(rendered.text)
    yes = verify_link(SECRET, links["Ja, borgeren deltager stadig"].rsplit("/", 1)[1], NOW)
    no = verify_link(SECRET, links["Nej, borgeren deltager ikke længere"].rsplit("/", 1)[1], NOW)
    assert (yes.action, no.action) == ("participation:12:yes", "participation:12:no")
    assert (yes.subject_id, yes.actor_id, yes.role) == ("r1", "prof-1", Role.professional)
    assert yes.expires_at == NOW + FOLLOW_UP_VALIDITY
    assert f"{WEB}/henvisninger/r1" in rendered.text


def test_links_are_the_same_each_time_a_stored_message_is_rendered() -> None:
    [notify] = fire_welcome_contact(Referral("r1", "prof-1", "c1", NOW), COMMUNITY, NOW, TH).notify
    messages = Messages(WEB, link_secret=SECRET)
    assert messages.render_stored(str(notify.rule), stored(notify.context)) == messages.render(
        notify.rule, notify.context
    )


def test_no_links_are_signed_without_a_secret() -> None:
    [notify] = fire_welcome_contact(Referral("r1", "prof-1", "c1", NOW), COMMUNITY, NOW, TH).notify
    with pytest.raises(ValueError, match="LINK_SIGNING_KEY"):
        Messages(WEB).render(notify.rule, notify.context)


def test_a_message_sent_late_gets_links_valid_from_when_it_is_sent() -> None:
    [notify] = fire_welcome_contact(Referral("r1", "prof-1", "c1", NOW), COMMUNITY, NOW, TH).notify
    messages, after_a_pause = Messages(WEB, link_secret=SECRET), NOW + timedelta(days=40)
    late = _links(messages.render(notify.rule, notify.context, sent_at=after_a_pause).text)["Pause mails"]
    assert verify_link(SECRET, late.rsplit("/", 1)[1], after_a_pause).expires_at == after_a_pause + LINK_VALIDITY
    early = _links(messages.render(notify.rule, notify.context, sent_at=NOW - timedelta(hours=1)).text)
    assert verify_link(SECRET, early["Pause mails"].rsplit("/", 1)[1], NOW).expires_at == NOW + LINK_VALIDITY
