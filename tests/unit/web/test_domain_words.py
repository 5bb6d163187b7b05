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
    statuses |= {"participating", "ended", "rejected", "no_show", "cancelled"}
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


def test_a_note_and_referring_again_belong_to_the_referrer() -> None:
    mette, jens = WebUser("prof-mette", Role.professional), WebUser("prof-jens", Role.professional)
    contact = WebUser("community:c1", Role.community_contact, communities=("c1",))
    assert domain.sees_note(mette, "prof-mette") and domain.sees_note(WebUser("g", Role.guide), "prof-mette")
    assert not domain.sees_note(jens, "prof-mette") and not domain.sees_note(contact, "prof-mette")
    assert domain.refers_again(mette, "no_show", "prof-mette")
    assert not domain.refers_again(mette, "rejected", "prof-mette")
    assert not domain.refers_again(jens, "no_show", "prof-mette")
    assert not domain.refers_again(contact, "no_show", "prof-mette")


def test_reception_groups() -> None:
    assert domain.reception_group("requested") == "new"
    assert [domain.reception_group(s) for s in ("accepted", "accompaniment_arranged", "accompanied")] == ["coming"] * 3
    assert {domain.reception_group(s) for s in ("welcomed", "no_show", "rejected", "cancelled")} == {"closed"}
    assert set(domain.DECLINE_WORDS) == {"full", "not_suitable", "no_contact"}
    assert domain.RECEIVED_WORDS["requested"] == "Ny" and domain.RECEIVED_WORDS["welcomed"] == "Budt velkommen"
    assert (
        set(domain.RECEPTION_MOVES_OF["new"]) < set(domain.RECEPTION_MOVES) == set(domain.RECEPTION_MOVES_OF["coming"])
    )


@pytest.mark.parametrize(
    ("choice", "total", "available", "report"),
    [
        ("full", 12, 8, {"total": 12, "available": 0, "status": "full"}),
        ("few", 12, 8, {"total": 12, "available": 2, "status": "open"}),
        ("few", 12, 3, {"total": 12, "available": 3, "status": "open"}),
        ("few", 1, None, {"total": 1, "available": 1, "status": "open"}),
        ("few", None, None, {"total": None, "available": 2, "status": "open"}),
        ("open", 12, 0, {"total": 12, "available": None, "status": "open"}),
        ("open", 12, 8, {"total": 12, "available": 8, "status": "open"}),
        ("open", None, 2, {"total": None, "available": None, "status": "open"}),
    ],
)
def test_a_contacts_capacity_words_become_a_capacity_report(
    choice: str, total: int | None, available: int | None, report: dict[str, object]
) -> None:
    assert domain.capacity_report(choice, total, available) == report
    shown = domain.capacity_key(str(report["status"]), report["available"])  # type: ignore[arg-type]
    assert shown == choice


def test_a_pause_ends_in_the_morning_weeks_later() -> None:
    until = domain.pause_until(2, NOW)
    assert until.isoformat() == "2026-12-16T07:00:00+01:00"


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        ("2026-12-08", "17:00", "2026-12-08T17:00:00+01:00"),
        ("8.12.2026", "17.00", "2026-12-08T17:00:00+01:00"),
        ("08-12-2026", "9:30", "2026-12-08T09:30:00+01:00"),
        ("2027-06-01", "17:00", "2027-06-01T17:00:00+02:00"),  # summer time
    ],
)
def test_a_first_visit_is_read_on_the_copenhagen_clock(day: str, clock: str, expected: str) -> None:
    moment, errors = domain.visit_time(day, clock, NOW, ("d", "t"))
    assert errors == [] and moment is not None and moment.isoformat() == expected


def test_a_first_visit_must_be_a_real_future_time() -> None:
    assert domain.visit_time("", "", NOW, ("d", "t"))[1] == [
        ("d", "Skriv datoen for besøget"),
        ("t", "Skriv klokkeslættet for besøget"),
    ]
    assert domain.visit_time("2026-02-30", "25:00", NOW, ("d", "t"))[0] is None
    assert domain.visit_time("2026-12-01", "17:00", NOW, ("d", "t"))[1] == [("d", "Besøget skal ligge ude i fremtiden")]
    assert domain.visit_time("2028-12-01", "17:00", NOW, ("d", "t"))[1][0][0] == "d"
