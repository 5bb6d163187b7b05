"""Pure rules of what a person sees of a referral beyond `visibility.can_see`: the referrer's
note, the contact the citizen agreed to share, and accompaniment requests (first to take wins).

The note is the referrer's words about the citizen (often a diagnosis, a name, a situation):
the referrer and the staff read it always; the community's contact and the arranged companion
only where the referrer marked it for sharing, which needs the citizen's recorded consent.

An accompaniment request is a referral that needs a companion. For a volunteer who offers
accompaniment it is `open` (they may read it and take it), `mine` (they are the companion),
or `taken` (it would have been open for them, but someone else took it lately). A candidate
reads what they need to decide: community, time, special considerations, the proposed visit;
never the note, and the citizen's shared first name and phone only once they are the companion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.referrals.domain import ACCOMPANYING, TAKEN_MESSAGE, Status
from services.referrals.visibility import REFERRER_ROLES, SEE_ALL, can_see
from shared.errors import Conflict, Forbidden
from shared.principal import Principal, Role

# Waiting for a companion: nobody goes along yet, the community has not answered "no".
REQUEST_STATUSES = frozenset({Status.requested, Status.accepted})
# How long the companion keeps seeing a welcomed referral among their own, and how long a
# request someone else took stays visible as taken (so a candidate learns what became of it).
MINE_AFTER_WELCOME = timedelta(days=30)
TAKEN_SHOWN_FOR = timedelta(days=14)


def is_referrer_or_staff(principal: Principal, *, referrer_id: str) -> bool:
    return principal.role in SEE_ALL or (principal.role in REFERRER_ROLES and principal.actor_id == referrer_id)


def sees_note(
    principal: Principal, *, referrer_id: str, companion_id: str | None, community_id: str, share_note: bool
) -> bool:
    """The referrer, guides and admins always; the arranged companion and the community's
    contact only when the note is shared."""
    if is_referrer_or_staff(principal, referrer_id=referrer_id):
        return True
    if not share_note:
        return False
    if principal.role in REFERRER_ROLES:
        return companion_id is not None and principal.actor_id == companion_id
    return principal.role is Role.community_contact and community_id in principal.communities


def check_can_measure(principal: Principal, *, referrer_id: str) -> None:
    """The loneliness measure is asked with the citizen: by the referrer, or a guide or admin."""
    if not is_referrer_or_staff(principal, referrer_id=referrer_id):
        raise Forbidden("the loneliness measure is recorded by the referrer (or a guide), with the citizen")


def sees_shared_contact(principal: Principal, *, referrer_id: str, companion_id: str | None, community_id: str) -> bool:
    """Who may see the first name and phone the citizen agreed to share (when they did): the
    community they go to, the arranged companion, the referrer and the staff."""
    return can_see(principal, referrer_id=referrer_id, companion_id=companion_id, community_id=community_id)


def first_name(name: str | None) -> str:
    """The first word of a stored name: what the community and the companion call the citizen."""
    return (name or "").strip().split(" ", 1)[0]


class RequestState(StrEnum):
    open = "open"
    mine = "mine"
    taken = "taken"


@dataclass(frozen=True)
class Volunteer:
    """The one asking, as the directory knows them (None in the rules: not a referrer at all)."""

    actor_id: str
    area: str | None
    offers_accompaniment: bool


@dataclass(frozen=True)
class Request:
    """What the rules need to know about one referral as an accompaniment request."""

    referrer_id: str
    status: Status
    needs_accompaniment: bool
    community_area: str | None
    companion_id: str | None = None
    arranged_at: datetime | None = None
    welcomed_at: datetime | None = None
    declined: bool = False  # by the one asking


def waits_for_companion(request: Request) -> bool:
    return request.needs_accompaniment and request.status in REQUEST_STATUSES and request.companion_id is None


def _in_my_area(volunteer: Volunteer, request: Request) -> bool:
    return volunteer.area is None or volunteer.area == request.community_area


def _for_me(volunteer: Volunteer | None, request: Request) -> bool:
    """Would this request be offered to the volunteer (leaving out whether they declined it)?"""
    return (
        volunteer is not None
        and volunteer.offers_accompaniment
        and request.needs_accompaniment
        and request.referrer_id != volunteer.actor_id
        and _in_my_area(volunteer, request)
    )


def request_state(
    principal: Principal, volunteer: Volunteer | None, request: Request, now: datetime
) -> RequestState | None:
    """Where the request stands for `principal`, or None when it is not theirs to see."""
    if principal.role in SEE_ALL:
        return RequestState.open if waits_for_companion(request) else None
    if principal.role not in REFERRER_ROLES:
        return None
    if request.companion_id == principal.actor_id:
        recent = request.welcomed_at is not None and now - request.welcomed_at <= MINE_AFTER_WELCOME
        if request.status in ACCOMPANYING or (request.status is Status.welcomed and recent):
            return RequestState.mine
        return None
    if request.declined or not _for_me(volunteer, request):
        return None
    if waits_for_companion(request):
        return RequestState.open
    taken_at = request.arranged_at
    if request.companion_id is not None and taken_at is not None and now - taken_at <= TAKEN_SHOWN_FOR:
        return RequestState.taken
    return None


def is_candidate(principal: Principal, volunteer: Volunteer | None, request: Request, now: datetime) -> bool:
    """May read the referral as an open request (the request view: no note, no contact)."""
    return principal.role in REFERRER_ROLES and request_state(principal, volunteer, request, now) is RequestState.open


def check_can_take(principal: Principal, volunteer: Volunteer | None, request: Request, companion_id: str) -> None:
    """A volunteer takes an accompaniment for themselves (the referrer and guides arrange anyone)."""
    if companion_id != principal.actor_id:
        raise Forbidden("you can take an accompaniment only for yourself: send your own actor id as companion_id")
    if volunteer is None or not volunteer.offers_accompaniment:
        raise Forbidden("you do not offer accompaniment; ask a guide to add it to your profile first")
    if request.companion_id not in (None, principal.actor_id):
        raise Conflict(TAKEN_MESSAGE, status=request.status.value)
    if request.declined:
        raise Forbidden("you declined this accompaniment request; ask the referrer if you want to go along after all")
    if not request.needs_accompaniment:
        raise Forbidden("this referral does not ask for a companion; the referrer arranges accompaniment")
    if not _in_my_area(volunteer, request):
        raise Forbidden("this accompaniment request is for a community outside your area")


def check_can_decline(principal: Principal, volunteer: Volunteer | None, request: Request) -> None:
    if principal.role not in REFERRER_ROLES:
        raise Forbidden(f"role '{principal.role.value}' does not accompany citizens; nothing to decline")
    if request.companion_id == principal.actor_id:
        raise Conflict(
            "you are the arranged companion; ask the referrer to arrange someone else", status=request.status.value
        )
    if not _for_me(volunteer, request):
        raise Forbidden("this referral is not an accompaniment request for you")
