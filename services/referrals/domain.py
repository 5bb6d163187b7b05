"""Pure rules of the referrals context: the referral lifecycle and who may move a referral.
(Who may see one lives in `visibility.py`, whether a community takes new referrals in
`intake.py`, the cascade's rules and the vocabulary checks in `cascade.py`, companion ranking
in `companions.py`.)

No I/O here: everything is a function of its arguments, so every rule is unit-tested.

The lifecycle follows the HL7 FHIR SDOH referral Task (requested → accepted → … → completed),
with the programme's own stages in between:

    requested ─accept→ accepted ─arrange_accompaniment→ accompaniment_arranged ─accompany→ accompanied
        │                 │                                                                    │
        └─────────────────┴──────────────── welcome ───────────────────────────────────────────┴→ welcomed
    welcomed ─confirm_participation(4 / 12 weeks)→ participating | ended
    requested | accepted ─reject(reason)→ rejected;   any open status ─cancel→ cancelled
    any open status ─no_show→ no_show ("Kom ikke": the citizen did not come; final)
    requested | accepted | accompaniment_arranged ─propose_visit→ (same status, a proposed first visit)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.errors import Conflict, Forbidden, Invalid
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
from shared.principal import Principal, Role


class Status(StrEnum):
    requested = "requested"
    accepted = "accepted"
    accompaniment_arranged = "accompaniment_arranged"
    accompanied = "accompanied"
    welcomed = "welcomed"
    participating = "participating"
    ended = "ended"
    rejected = "rejected"
    no_show = "no_show"
    cancelled = "cancelled"


class Action(StrEnum):
    accept = "accept"
    arrange_accompaniment = "arrange_accompaniment"
    accompany = "accompany"
    welcome = "welcome"
    confirm_participation = "confirm_participation"
    reject = "reject"
    propose_visit = "propose_visit"
    no_show = "no_show"
    cancel = "cancel"


OPEN = frozenset({Status.requested, Status.accepted, Status.accompaniment_arranged, Status.accompanied})
# Statuses whose referral still waits for the community to answer (the `overdue` filter).
AWAITING = frozenset({Status.requested, Status.accepted})

# From which statuses each action may start. Arranging accompaniment or welcoming from
# `requested` is allowed because volunteer-run communities often have nobody with an account to
# press "accept": a welcome (or a companion going along) implies the community took the citizen.
ALLOWED_FROM: dict[Action, frozenset[Status]] = {
    Action.accept: frozenset({Status.requested}),
    Action.arrange_accompaniment: frozenset({Status.requested, Status.accepted}),
    Action.accompany: frozenset({Status.accepted, Status.accompaniment_arranged}),
    Action.welcome: OPEN,
    Action.confirm_participation: frozenset({Status.welcomed, Status.participating}),
    Action.reject: AWAITING,
    Action.propose_visit: frozenset({Status.requested, Status.accepted, Status.accompaniment_arranged}),
    Action.no_show: OPEN,
    Action.cancel: OPEN,
}
# Statuses in which someone is (or was) going along with the citizen.
ACCOMPANYING = frozenset({Status.accompaniment_arranged, Status.accompanied})
TAKEN_MESSAGE = "accompaniment is already taken by another companion"

FOLLOW_UP_WEEKS = (4, 12)


def allowed_actions(status: Status) -> list[Action]:
    return [action for action in Action if status in ALLOWED_FROM[action]]


class TransitionNotAllowed(Conflict):
    def __init__(self, status: Status, action: Action) -> None:
        allowed = [a.value for a in allowed_actions(status)]
        moves = f"allowed moves: {', '.join(allowed)}" if allowed else "it is final, no moves are allowed"
        super().__init__(
            f"cannot {action.value.replace('_', ' ')} a referral that is {status.value.replace('_', ' ')}; {moves}",
            status=status.value,
            allowed=allowed,
        )


@dataclass(frozen=True)
class ReferralState:
    """What the lifecycle needs to know about one referral."""

    referral_id: str
    community_id: str
    status: Status
    updated_at: datetime
    companion_id: str | None = None
    participation: dict[int, bool] = field(default_factory=dict)  # weeks_after -> still participating
    rejection_reason: str | None = None
    visit_at: datetime | None = None  # the community's proposed first visit (the latest proposal)
    arranged_at: datetime | None = None  # when the companion took it (the "taken" window counts from here)
    welcomed_at: datetime | None = None  # follow-ups are due counted from here


def action_of(event: Event) -> Action:
    """The lifecycle action a referral event records (used for ingested events)."""
    for action, model in EVENT_OF_ACTION.items():
        if isinstance(event, model):
            return action
    raise ValueError(f"{type(event).__name__} is not a referral transition")


EVENT_OF_ACTION: dict[Action, type[Event]] = {
    Action.accept: ReferralAccepted,
    Action.arrange_accompaniment: AccompanimentArranged,
    Action.accompany: CitizenAccompanied,
    Action.welcome: WelcomeConfirmed,
    Action.confirm_participation: ParticipationConfirmed,
    Action.reject: ReferralRejected,
    Action.propose_visit: FirstVisitProposed,
    Action.no_show: NoShowReported,
    Action.cancel: ReferralCancelled,
}


def transition(state: ReferralState, event: Event, at: datetime) -> ReferralState:
    """The referral after `event` happened at `at`; raises when the move is impossible."""
    action = action_of(event)
    if isinstance(event, AccompanimentArranged):
        check_not_taken(state, event.companion_id)
    if state.status not in ALLOWED_FROM[action]:
        raise TransitionNotAllowed(state.status, action)
    if at < state.updated_at:
        raise Invalid(
            f"time: {at.isoformat()} is before the referral's last change ({state.updated_at.isoformat()}); "
            "send a referral's events in the order they happened",
            field="time",
        )
    changes = _changes(state, event, at)
    return replace(state, updated_at=at, **changes)  # one copy: a batch moves thousands


def _changes(state: ReferralState, event: Event, at: datetime) -> dict[str, Any]:
    """What `event` changes in the referral besides its time."""
    if isinstance(event, ReferralAccepted):
        return {"status": Status.accepted}
    if isinstance(event, AccompanimentArranged):
        return {"status": Status.accompaniment_arranged, "companion_id": event.companion_id, "arranged_at": at}
    if isinstance(event, CitizenAccompanied):
        arranged = state.arranged_at or at
        return {"status": Status.accompanied, "companion_id": event.companion_id, "arranged_at": arranged}
    if isinstance(event, FirstVisitProposed):
        return {"visit_at": event.visit_at.astimezone(UTC)}
    if isinstance(event, NoShowReported):
        return {"status": Status.no_show}
    if isinstance(event, WelcomeConfirmed):
        if event.community_id != state.community_id:
            raise Invalid(
                f"community_id: the referral is to community {state.community_id!r}, not {event.community_id!r}",
                field="community_id",
            )
        return {"status": Status.welcomed, "welcomed_at": at}
    if isinstance(event, ParticipationConfirmed):
        return _confirm_participation(state, event)
    if isinstance(event, ReferralRejected):
        return {"status": Status.rejected, "rejection_reason": event.reason}
    return {"status": Status.cancelled}


def check_not_taken(state: ReferralState, companion_id: str) -> None:
    """First to take wins: arranging a companion where another already goes along is a 409
    that says so (the loser of a race gets the same answer as a late comer)."""
    if state.status in ACCOMPANYING and state.companion_id not in (None, companion_id):
        raise Conflict(
            TAKEN_MESSAGE, status=state.status.value, allowed=[a.value for a in allowed_actions(state.status)]
        )


def _confirm_participation(state: ReferralState, event: ParticipationConfirmed) -> dict[str, Any]:
    weeks = event.weeks_after
    if weeks not in FOLLOW_UP_WEEKS:
        raise Invalid(
            f"weeks_after: participation is confirmed at {' and '.join(map(str, FOLLOW_UP_WEEKS))} weeks, not {weeks}",
            field="weeks_after",
        )
    if weeks in state.participation:
        raise Conflict(
            f"participation after {weeks} weeks is already recorded for this referral",
            status=state.status.value,
            allowed=[a.value for a in allowed_actions(state.status)],
        )
    if any(earlier > weeks for earlier in state.participation):
        raise Conflict(
            f"participation after {max(state.participation)} weeks is already recorded; "
            f"the {weeks}-week follow-up cannot come after it",
            status=state.status.value,
            allowed=[a.value for a in allowed_actions(state.status)],
        )
    participation = {**state.participation, weeks: event.still_participating}
    status = Status.participating if event.still_participating else Status.ended
    # After the last follow-up nothing more is expected: a participating referral stays
    # `participating`, but no further confirmation is accepted (see allowed_actions_for).
    return {"status": status, "participation": participation}


def allowed_actions_for(state: ReferralState) -> list[Action]:
    """Allowed moves taking follow-ups into account (a referral with both done is complete)."""
    actions = allowed_actions(state.status)
    if set(FOLLOW_UP_WEEKS) <= set(state.participation):
        actions = [a for a in actions if a is not Action.confirm_participation]
    return actions


# ---------------------------------------------------------------------- access


# Who may make each move (on a referral they can see). The community side answers (accept,
# reject, welcome); the referrer's side arranges the companion; either side confirms follow-up.
ACTORS_FOR: dict[Action, frozenset[Role]] = {
    Action.accept: frozenset({Role.guide, Role.admin, Role.community_contact}),
    Action.reject: frozenset({Role.guide, Role.admin, Role.community_contact}),
    Action.welcome: frozenset({Role.guide, Role.admin, Role.community_contact}),
    Action.arrange_accompaniment: frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador}),
    Action.accompany: frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador}),
    Action.confirm_participation: frozenset(
        {Role.guide, Role.admin, Role.community_contact, Role.professional, Role.ambassador}
    ),
    Action.propose_visit: frozenset({Role.guide, Role.admin, Role.community_contact}),
    Action.no_show: frozenset({Role.guide, Role.admin, Role.community_contact}),
    Action.cancel: frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador}),
}


def check_can_act(principal: Principal, action: Action) -> None:
    if principal.role not in ACTORS_FOR[action]:
        roles = ", ".join(sorted(r.value for r in ACTORS_FOR[action]))
        raise Forbidden(
            f"role '{principal.role.value}' may not {action.value.replace('_', ' ')}; allowed roles: {roles}"
        )
