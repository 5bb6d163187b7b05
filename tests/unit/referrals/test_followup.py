"""Follow-ups due and overdue (counted from the welcome), the loneliness measure's rules, and
readiness that only moves up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from services.referrals import cascade, followup
from services.referrals.cascade import Readiness
from services.referrals.domain import Status
from shared.errors import Conflict, Invalid

WELCOMED = datetime(2026, 9, 1, 10, tzinfo=UTC)


def due(status: Status, days: float, participation: dict[int, bool] | None = None) -> int | None:
    return followup.follow_up_due(status, WELCOMED, participation or {}, WELCOMED + timedelta(days=days))


def overdue(status: Status, days: float, participation: dict[int, bool] | None = None) -> bool:
    return followup.follow_up_overdue(status, WELCOMED, participation or {}, WELCOMED + timedelta(days=days))


def test_the_4_week_follow_up_is_due_from_day_28() -> None:
    assert due(Status.welcomed, 27.9) is None
    assert due(Status.welcomed, 28) == 4
    assert due(Status.welcomed, 83) == 4


def test_the_12_week_follow_up_comes_after_the_4_week_answer() -> None:
    assert due(Status.participating, 60, {4: True}) is None
    assert due(Status.participating, 84, {4: True}) == 12
    assert due(Status.participating, 200, {4: True, 12: True}) is None


def test_when_both_are_due_the_12_week_one_is_asked() -> None:
    assert due(Status.welcomed, 90) == 12


def test_no_follow_up_outside_welcomed_and_participating() -> None:
    for status in (Status.accepted, Status.ended, Status.no_show, Status.cancelled):
        assert due(status, 100) is None
    assert followup.follow_up_due(Status.welcomed, None, {}, WELCOMED) is None


def test_overdue_is_more_than_14_days_past_due() -> None:
    assert not overdue(Status.welcomed, 41.9)
    assert overdue(Status.welcomed, 42)
    assert not overdue(Status.participating, 97, {4: True})
    assert overdue(Status.participating, 98, {4: True})
    assert not overdue(Status.participating, 300, {4: True, 12: True})
    assert not overdue(Status.ended, 300, {4: False})


def test_the_latest_follow_up_answered() -> None:
    assert followup.last_follow_up({}) is None
    assert followup.last_follow_up({4: True, 12: False}) == 12


# ---------------------------------------------------------------------- loneliness


def test_the_score_is_the_sum_of_three_answers() -> None:
    assert followup.loneliness_score([1, 1, 1], consent=True) == 3
    assert followup.loneliness_score([3, 2, 3], consent=True) == 8


@pytest.mark.parametrize(
    ("answers", "consent", "field"),
    [
        ([1, 2, 3], False, "consent"),
        ([1, 2], True, "answers"),
        ([1, 2, 3, 1], True, "answers"),
        ([0, 2, 3], True, "answers"),
        ([1, 4, 3], True, "answers"),
    ],
)
def test_the_measure_needs_consent_and_three_answers_of_1_to_3(answers: list[int], consent: bool, field: str) -> None:
    with pytest.raises(Invalid, match=f"^{field}: ") as caught:
        followup.loneliness_score(answers, consent=consent)
    assert caught.value.details["field"] == field


def test_the_measure_is_off_where_the_profile_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(followup, "profile", lambda: SimpleNamespace(loneliness_scale=False, municipality="Andeby"))
    with pytest.raises(Invalid, match="not used in Andeby"):
        followup.loneliness_score([1, 1, 1], consent=True)
    with pytest.raises(Invalid, match="not used"):
        followup.check_loneliness_enabled()


def test_each_moment_once_and_week_12_after_the_welcome() -> None:
    followup.check_loneliness_moment("referral", [], welcomed=False)
    followup.check_loneliness_moment("week_12", ["referral"], welcomed=True)
    with pytest.raises(Conflict, match="already recorded"):
        followup.check_loneliness_moment("referral", ["referral"], welcomed=True)
    with pytest.raises(Conflict, match="after the welcome"):
        followup.check_loneliness_moment("week_12", ["referral"], welcomed=False)


def test_the_questions_as_asked_in_the_national_survey() -> None:
    assert followup.LONELINESS_QUESTIONS[1] == "Hvor ofte føler du dig holdt udenfor?"
    assert followup.LONELINESS_ANSWERS == {1: "Sjældent eller aldrig", 2: "En gang imellem", 3: "Ofte"}


# ---------------------------------------------------------------------- readiness


@pytest.mark.parametrize(
    ("current", "reached", "moves"),
    [
        (None, Readiness.trained, True),
        ("aware", Readiness.trained, True),
        ("trained", Readiness.trained, False),  # again: nothing new
        ("referring", Readiness.trained, False),  # never down
        ("trained", Readiness.referring, True),
        ("accompanying", Readiness.referring, False),
        ("referring", Readiness.accompanying, True),
        (None, Readiness.accompanying, True),
    ],
)
def test_readiness_moves_by_itself_only_upwards(current: str | None, reached: Readiness, moves: bool) -> None:
    assert cascade.readiness_reached(current, reached) is moves
