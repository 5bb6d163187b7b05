"""The retention rule at its edges: when a referral ended, when a citizen is past the limit,
calendar months on the Copenhagen clock, and when the nightly run comes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.referrals.domain import Status
from services.referrals.service.retention import (
    WELCOMED_LASTS,
    CitizenFacts,
    ReferralFacts,
    due,
    ended_at,
    months_before,
    next_run,
)
from shared.clock import COPENHAGEN

NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 02:30 in Copenhagen
LIMIT = months_before(NOW, 12)  # 2 December 2025, 02:30 Copenhagen
SECOND = timedelta(seconds=1)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def citizen(*referrals: ReferralFacts, registered_at: datetime = LONG_AGO) -> CitizenFacts:
    return CitizenFacts("c-1", registered_at, tuple(referrals))


def is_due(facts: CitizenFacts, months: int = 12) -> bool:
    return due([facts], NOW, months) == ["c-1"]


def test_twelve_months_is_the_same_wall_clock_time_a_year_before() -> None:
    assert datetime(2025, 12, 2, 2, 30, tzinfo=COPENHAGEN) == LIMIT


@pytest.mark.parametrize("status", [Status.rejected, Status.cancelled, Status.no_show])
def test_a_closed_referral_ends_at_its_last_change(status: Status) -> None:
    assert is_due(citizen(ReferralFacts(status, LIMIT - SECOND)))
    assert not is_due(citizen(ReferralFacts(status, LIMIT)))  # exactly at the limit: not more than
    assert not is_due(citizen(ReferralFacts(status, LIMIT + SECOND)))


@pytest.mark.parametrize("status", [Status.welcomed, Status.participating, Status.ended])
def test_a_welcomed_referral_ends_twelve_weeks_after_the_welcome(status: Status) -> None:
    assert timedelta(days=84) == WELCOMED_LASTS
    welcomed = LIMIT - timedelta(days=84)
    # Its last change (the welcome, a follow-up) does not count: the 12-week mark does.
    assert not is_due(citizen(ReferralFacts(status, LONG_AGO, welcomed_at=welcomed)))
    assert is_due(citizen(ReferralFacts(status, LONG_AGO, welcomed_at=welcomed - SECOND)))
    assert ended_at(ReferralFacts(status, LONG_AGO, welcomed_at=welcomed)) == LIMIT


@pytest.mark.parametrize(
    "status", [Status.requested, Status.accepted, Status.accompaniment_arranged, Status.accompanied]
)
def test_an_open_referral_keeps_the_citizen_however_old(status: Status) -> None:
    assert ended_at(ReferralFacts(status, LONG_AGO)) is None
    assert not is_due(citizen(ReferralFacts(status, LONG_AGO)))
    assert not is_due(citizen(ReferralFacts(Status.cancelled, LONG_AGO), ReferralFacts(status, LONG_AGO)))


def test_the_last_referral_to_end_counts() -> None:
    old, recent = ReferralFacts(Status.rejected, LONG_AGO), ReferralFacts(Status.cancelled, LIMIT + SECOND)
    assert not is_due(citizen(old, recent))
    assert is_due(citizen(old, ReferralFacts(Status.cancelled, LIMIT - SECOND)))


def test_a_citizen_never_referred_counts_from_registration() -> None:
    assert is_due(citizen(registered_at=LIMIT - SECOND))
    assert not is_due(citizen(registered_at=LIMIT))


def test_nobody_is_erased_soon_after_registration_for_old_ingested_referrals() -> None:
    back_dated = ReferralFacts(Status.cancelled, LONG_AGO)
    assert not is_due(citizen(back_dated, registered_at=NOW - timedelta(days=1)))


def test_the_limit_is_the_profile_s_number_of_months() -> None:
    seven_months = citizen(ReferralFacts(Status.rejected, NOW - timedelta(days=214)))
    assert not is_due(seven_months, months=12)
    assert is_due(seven_months, months=6)


def test_exactly_the_citizens_past_the_limit_are_chosen() -> None:
    citizens = [
        CitizenFacts("past", LONG_AGO, (ReferralFacts(Status.rejected, LIMIT - SECOND),)),
        CitizenFacts("at", LONG_AGO, (ReferralFacts(Status.rejected, LIMIT),)),
        CitizenFacts("open", LONG_AGO, (ReferralFacts(Status.requested, LONG_AGO),)),
        CitizenFacts("never", LIMIT - SECOND),
    ]
    assert due(citizens, NOW, 12) == ["past", "never"]


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 31, 12, tzinfo=COPENHAGEN), 1, datetime(2026, 2, 28, 12, tzinfo=COPENHAGEN)),
        (datetime(2025, 3, 31, 12, tzinfo=COPENHAGEN), 13, datetime(2024, 2, 29, 12, tzinfo=COPENHAGEN)),  # leap
        (datetime(2026, 1, 15, 12, tzinfo=COPENHAGEN), 1, datetime(2025, 12, 15, 12, tzinfo=COPENHAGEN)),
        # Across summer time: the same wall-clock hour, so 11:00 UTC became 10:00 UTC.
        (datetime(2026, 4, 15, 12, tzinfo=COPENHAGEN), 3, datetime(2026, 1, 15, 12, tzinfo=COPENHAGEN)),
        (datetime(2026, 12, 2, 2, 30, tzinfo=COPENHAGEN), 120, datetime(2016, 12, 2, 2, 30, tzinfo=COPENHAGEN)),
    ],
)
def test_calendar_months_on_the_copenhagen_clock(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment.astimezone(UTC), months) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 2, 1, 0, tzinfo=COPENHAGEN), datetime(2026, 12, 2, 2, 30, tzinfo=COPENHAGEN)),
        (datetime(2026, 12, 2, 2, 30, tzinfo=COPENHAGEN), datetime(2026, 12, 3, 2, 30, tzinfo=COPENHAGEN)),
        (datetime(2026, 12, 2, 23, 59, tzinfo=COPENHAGEN), datetime(2026, 12, 3, 2, 30, tzinfo=COPENHAGEN)),
        # The night summer time begins (02:00 → 03:00) there is no 02:30; the run is at 03:30.
        (datetime(2026, 3, 29, 1, 0, tzinfo=COPENHAGEN), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # The night it ends (03:00 → 02:00) the first 02:30 is the one.
        (datetime(2026, 10, 25, 1, 0, tzinfo=COPENHAGEN), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_the_nightly_run_is_the_next_02_30_in_copenhagen(now: datetime, expected: datetime) -> None:
    assert next_run(now.astimezone(UTC), time(2, 30)) == expected
