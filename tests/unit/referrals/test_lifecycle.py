"""The referral lifecycle as a state machine: every (status, action) pair, allowed or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referrals.domain import (
    Action,
    ReferralState,
    Status,
    TransitionNotAllowed,
    action_of,
    allowed_actions,
    allowed_actions_for,
    transition,
)
from shared.errors import Conflict, Invalid
from shared.events import Event
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    FirstVisitProposed,
    NoShowReported,
    ParticipationConfirmed,
    ReferralAccepted,
    ReferralCancelled,
    ReferralRejected,
    WelcomeConfirmed,
)

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=3)
VISIT = T0 + timedelta(days=7, hours=10)


def event_for(action: Action) -> Event:
    return {
        Action.accept: ReferralAccepted(referral_id="r1"),
        Action.arrange_accompaniment: AccompanimentArranged(referral_id="r1", companion_id="amb-lars"),
        Action.accompany: CitizenAccompanied(referral_id="r1", companion_id="amb-lars"),
        Action.welcome: WelcomeConfirmed(referral_id="r1", community_id="strik", confirmed_by="contact"),
        Action.confirm_participation: ParticipationConfirmed(referral_id="r1", weeks_after=4, still_participating=True),
        Action.reject: ReferralRejected(referral_id="r1", reason="full"),
        Action.propose_visit: FirstVisitProposed(referral_id="r1", visit_at=VISIT, proposed_by="contact"),
        Action.no_show: NoShowReported(referral_id="r1", reported_by="contact"),
        Action.cancel: ReferralCancelled(referral_id="r1"),
    }[action]


def state(status: Status, **kw: object) -> ReferralState:
    return ReferralState(referral_id="r1", community_id="strik", status=status, updated_at=T0, **kw)  # type: ignore[arg-type]


# Written out by hand (not derived from the implementation): the lifecycle as specified.
S, A = Status, Action
EXPECTED: dict[tuple[Status, Action], Status] = {
    (S.requested, A.accept): S.accepted,
    (S.requested, A.arrange_accompaniment): S.accompaniment_arranged,
    (S.requested, A.welcome): S.welcomed,
    (S.requested, A.reject): S.rejected,
    (S.requested, A.cancel): S.cancelled,
    (S.accepted, A.arrange_accompaniment): S.accompaniment_arranged,
    (S.accepted, A.accompany): S.accompanied,
    (S.accepted, A.welcome): S.welcomed,
    (S.accepted, A.reject): S.rejected,
    (S.accepted, A.cancel): S.cancelled,
    (S.accompaniment_arranged, A.accompany): S.accompanied,
    (S.accompaniment_arranged, A.welcome): S.welcomed,
    (S.accompaniment_arranged, A.cancel): S.cancelled,
    (S.accompanied, A.welcome): S.welcomed,
    (S.accompanied, A.cancel): S.cancelled,
    (S.welcomed, A.confirm_participation): S.participating,
    (S.participating, A.confirm_participation): S.participating,
    # A proposed first visit keeps the status; "Kom ikke" ends any open referral.
    (S.requested, A.propose_visit): S.requested,
    (S.accepted, A.propose_visit): S.accepted,
    (S.accompaniment_arranged, A.propose_visit): S.accompaniment_arranged,
    (S.requested, A.no_show): S.no_show,
    (S.accepted, A.no_show): S.no_show,
    (S.accompaniment_arranged, A.no_show): S.no_show,
    (S.accompanied, A.no_show): S.no_show,
}
ALL_PAIRS = [(s, a) for s in Status for a in Action]
ALLOWED = [pair for pair in ALL_PAIRS if pair in EXPECTED]
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def test_the_matrix_covers_every_pair() -> None:
    assert len(ALLOWED) + len(FORBIDDEN) == len(Status) * len(Action) == 90
    assert len(ALLOWED) == 24


@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=[f"{s}-{a}" for s, a in ALLOWED])
def test_allowed_transition(status: Status, action: Action) -> None:
    # A referral already participating at 4 weeks confirms the 12-week follow-up next.
    event = event_for(action)
    before = state(status, participation={4: True}) if status is S.participating else state(status)
    if status is S.participating:
        event = ParticipationConfirmed(referral_id="r1", weeks_after=12, still_participating=True)
    after = transition(before, event, LATER)
    assert after.status is EXPECTED[(status, action)]
    assert after.updated_at == LATER
    assert action_of(event) is action


@pytest.mark.parametrize(("status", "action"), FORBIDDEN, ids=[f"{s}-{a}" for s, a in FORBIDDEN])
def test_forbidden_transition_explains_status_and_allowed_moves(status: Status, action: Action) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        transition(state(status), event_for(action), LATER)
    error = caught.value
    assert error.status == 409
    allowed = sorted(a.value for (s, a) in EXPECTED if s is status)
    assert error.details == {"status": status.value, "allowed": [a.value for a in Action if a.value in allowed]}
    assert status.value.replace("_", " ") in error.message
    if allowed:
        assert "allowed moves: " + ", ".join(error.details["allowed"]) in error.message
    else:
        assert "final" in error.message


def test_final_statuses_allow_nothing() -> None:
    for status in (S.rejected, S.cancelled, S.ended, S.no_show):
        assert allowed_actions(status) == []


def test_arranging_records_the_companion_and_accompanying_may_name_another() -> None:
    arranged = transition(state(S.accepted), event_for(A.arrange_accompaniment), LATER)
    assert arranged.companion_id == "amb-lars"
    went = transition(arranged, CitizenAccompanied(referral_id="r1", companion_id="amb-sofie"), LATER)
    assert went.companion_id == "amb-sofie"


def test_rejection_keeps_its_reason() -> None:
    rejected = transition(state(S.accepted), ReferralRejected(referral_id="r1", reason="not_suitable"), LATER)
    assert rejected.rejection_reason == "not_suitable"


def test_participation_is_recorded_at_4_and_12_weeks() -> None:
    welcomed = state(S.welcomed)
    four = transition(
        welcomed, ParticipationConfirmed(referral_id="r1", weeks_after=4, still_participating=True), LATER
    )
    assert four.status is S.participating and four.participation == {4: True}
    twelve = transition(four, ParticipationConfirmed(referral_id="r1", weeks_after=12, still_participating=True), LATER)
    assert twelve.participation == {4: True, 12: True}
    assert Action.confirm_participation not in allowed_actions_for(twelve)


def test_stopping_ends_the_referral() -> None:
    ended = transition(
        state(S.welcomed), ParticipationConfirmed(referral_id="r1", weeks_after=4, still_participating=False), LATER
    )
    assert ended.status is S.ended
    assert allowed_actions_for(ended) == []


def test_a_follow_up_is_recorded_once_and_in_order() -> None:
    twelve = transition(
        state(S.welcomed), ParticipationConfirmed(referral_id="r1", weeks_after=12, still_participating=True), LATER
    )
    with pytest.raises(Conflict, match="already recorded"):
        transition(twelve, ParticipationConfirmed(referral_id="r1", weeks_after=12, still_participating=True), LATER)
    with pytest.raises(Conflict, match="cannot come after"):
        transition(twelve, ParticipationConfirmed(referral_id="r1", weeks_after=4, still_participating=True), LATER)


def test_only_4_and_12_weeks_are_follow_ups() -> None:
    with pytest.raises(Invalid, match="4 and 12 weeks"):
        transition(
            state(S.welcomed), ParticipationConfirmed(referral_id="r1", weeks_after=6, still_participating=True), LATER
        )


def test_a_back_dated_event_cannot_precede_the_last_change() -> None:
    with pytest.raises(Invalid, match="before the referral's last change"):
        transition(state(S.requested), event_for(A.accept), T0 - timedelta(seconds=1))


def test_the_welcome_must_be_for_the_referral_community() -> None:
    with pytest.raises(Invalid, match="community_id"):
        transition(state(S.accepted), WelcomeConfirmed(referral_id="r1", community_id="other", confirmed_by="x"), LATER)


def test_a_proposed_visit_is_kept_and_a_new_one_replaces_it() -> None:
    proposed = transition(state(S.accepted), event_for(A.propose_visit), LATER)
    assert proposed.visit_at == VISIT and proposed.status is S.accepted
    moved = VISIT + timedelta(days=2)
    again = transition(
        proposed, FirstVisitProposed(referral_id="r1", visit_at=moved, proposed_by="guide"), LATER + timedelta(hours=1)
    )
    assert again.visit_at == moved


def test_the_times_a_referral_remembers() -> None:
    arranged = transition(state(S.accepted), event_for(A.arrange_accompaniment), LATER)
    assert arranged.arranged_at == LATER
    went = transition(arranged, event_for(A.accompany), LATER + timedelta(days=1))
    assert went.arranged_at == LATER  # taken when it was arranged, not when they went
    welcomed = transition(went, event_for(A.welcome), LATER + timedelta(days=2))
    assert welcomed.welcomed_at == LATER + timedelta(days=2)
    straight = transition(state(S.accepted), event_for(A.accompany), LATER)
    assert straight.arranged_at == LATER


def test_first_to_take_wins() -> None:
    taken = state(S.accompaniment_arranged, companion_id="amb-sofie")
    with pytest.raises(Conflict, match="accompaniment is already taken by another companion") as caught:
        transition(taken, event_for(A.arrange_accompaniment), LATER)
    assert caught.value.details["status"] == "accompaniment_arranged"
    # The same companion asking again is an ordinary impossible move, not "taken".
    with pytest.raises(TransitionNotAllowed):
        transition(state(S.accompaniment_arranged, companion_id="amb-lars"), event_for(A.arrange_accompaniment), LATER)
