"""Pure rules of what comes after the welcome: which follow-up (4 or 12 weeks, counted from
the welcome) is due or overdue, and the optional three-item UCLA loneliness measure.

A follow-up is due once its week has come and nothing at or after it is recorded (once the
12-week answer is in, the 4-week one can no longer be given: `domain._confirm_participation`).
Overdue is due for more than `FOLLOW_UP_GRACE` (the reminders have had their time).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from services.referrals.domain import FOLLOW_UP_WEEKS, Status
from shared.errors import Conflict, Invalid
from shared.profile import profile

FOLLOWED_UP = frozenset({Status.welcomed, Status.participating})
FOLLOW_UP_GRACE = timedelta(days=14)


def follow_up_due(
    status: Status,
    welcomed_at: datetime | None,
    participation: Mapping[int, bool],
    now: datetime,
    *,
    grace: timedelta = timedelta(0),
) -> int | None:
    """The follow-up (weeks after the welcome) that is due and unanswered, the latest if two are."""
    if status not in FOLLOWED_UP or welcomed_at is None:
        return None
    answered = max(participation, default=0)
    due = [w for w in FOLLOW_UP_WEEKS if w > answered and welcomed_at + timedelta(weeks=w) + grace <= now]
    return max(due, default=None)


def follow_up_overdue(
    status: Status, welcomed_at: datetime | None, participation: Mapping[int, bool], now: datetime
) -> bool:
    return follow_up_due(status, welcomed_at, participation, now, grace=FOLLOW_UP_GRACE) is not None


def last_follow_up(participation: Mapping[int, bool]) -> int | None:
    """The latest follow-up answered (kept as a column, so overdue is one query)."""
    return max(participation, default=None)


# ---------------------------------------------------------------------- loneliness

# The three items as asked in the national survey "Hvordan har du det?" (the web shows them).
LONELINESS_QUESTIONS = (
    "Hvor ofte føler du, at du savner nogen at være sammen med?",
    "Hvor ofte føler du dig holdt udenfor?",
    "Hvor ofte føler du dig isoleret fra andre?",
)
LONELINESS_ANSWERS = {1: "Sjældent eller aldrig", 2: "En gang imellem", 3: "Ofte"}


def check_loneliness_enabled() -> None:
    if not profile().loneliness_scale:
        raise Invalid(
            f"the loneliness measure is not used in {profile().municipality}; the municipality profile turns it on",
            field="moment",
        )


def loneliness_score(answers: Sequence[int], *, consent: bool) -> int:
    """The sum of the three answers (3 = never lonely … 9 = often lonely on all three)."""
    check_loneliness_enabled()
    if consent is not True:
        raise Invalid("consent: the citizen must agree to answer; send consent: true", field="consent")
    if len(answers) != len(LONELINESS_QUESTIONS) or any(a not in LONELINESS_ANSWERS for a in answers):
        raise Invalid(
            "answers: give three answers, each 1 (rarely or never), 2 (some of the time) or 3 (often)",
            field="answers",
        )
    return sum(answers)


def check_loneliness_moment(moment: str, recorded: Collection[str], *, welcomed: bool) -> None:
    if moment in recorded:
        raise Conflict(f"the loneliness measure at '{moment}' is already recorded for this referral")
    if moment == "week_12" and not welcomed:
        raise Conflict("the 12-week loneliness measure is asked after the welcome; this referral is not welcomed yet")
