"""The web's pure rules: capacity and status words, which moves a person is shown, and what
waits for them in the worklist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.web import domain
from services.web.domain import WebUser
from shared.principal import Role

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "available", "word"),
    [
        ("open", None, "åben"),
        ("open", 10, "åben"),
        ("open", 3, "få pladser"),
        ("open", 1, "få pladser"),
        ("open", 0, "fuld"),
        ("waitlist", 0, "venteliste"),
        ("full", 0, "fuld"),
        ("full", None, "fuld"),
    ],
)
def test_capacity_words(status: str, available: int | None, word: str) -> None:
    assert domain.capacity_word(status, available) == word


def test_pending_words() -> None:
    assert domain.pending_words(0) == "ingen henvisninger venter på svar"
    assert domain.pending_words(1) == "1 henvisning venter på svar"
    assert domain.pending_words(4) == "4 henvisninger venter på svar"


def test_every_status_and_move_has_a_danish_word() -> None:
    statuses = {"requested", "accepted", "accompaniment_arranged", "accompanied", "welcomed"}
    statuses |= {"participating", "ended", "rejected", "cancelled"}
    assert set(domain.STATUS_WORDS) == statuses
    assert set(domain.ACTION_WORDS) == set(domain.ACTORS_FOR)
    assert domain.status_word("requested") == "Sendt"
    assert domain.event_word("ReferralCreated") == "Henvisningen blev sendt"


def test_only_the_moves_a_role_may_make_are_shown() -> None:
    allowed = ["accept", "arrange_accompaniment", "welcome", "reject", "cancel"]
    professional = WebUser("prof-mette", Role.professional)
    guide = WebUser("guide-anne", Role.guide)
    assert domain.moves_for(professional, allowed) == ["arrange_accompaniment", "cancel"]
    assert domain.moves_for(guide, allowed) == allowed


def test_what_waits_for_me() -> None:
    professional = WebUser("prof-mette", Role.professional)
    allowed = ["accept", "arrange_accompaniment", "welcome", "reject", "cancel"]
    assert not domain.needs_my_action(professional, "requested", allowed, needs_accompaniment=False)
    assert domain.needs_my_action(professional, "requested", allowed, needs_accompaniment=True)
    assert domain.needs_my_action(professional, "welcomed", ["confirm_participation"], needs_accompaniment=False)
    assert domain.needs_my_action(WebUser("g", Role.guide), "requested", allowed, needs_accompaniment=False)


def test_overdue_is_a_week_without_an_answer() -> None:
    assert domain.is_overdue("requested", NOW - timedelta(days=7), NOW)
    assert not domain.is_overdue("requested", NOW - timedelta(days=6), NOW)
    assert not domain.is_overdue("welcomed", NOW - timedelta(days=30), NOW)


def test_worklist_order_puts_my_action_then_overdue_first() -> None:
    keys = [
        domain.worklist_order(False, False, NOW),
        domain.worklist_order(True, False, NOW),
        domain.worklist_order(False, True, NOW),
        domain.worklist_order(True, True, NOW),
    ]
    assert sorted(keys) == [keys[3], keys[1], keys[2], keys[0]]


def test_actor_of_a_timeline_event() -> None:
    assert domain.actor_of({"confirmed_by": "contact-birthe", "referrer_id": "x"}) == "contact-birthe"
    assert domain.actor_of({"referral_id": "r"}) == ""
    assert WebUser("a", Role.guide).sees_all and not WebUser("a", Role.ambassador).reads_contact
