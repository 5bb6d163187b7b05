"""Pure rules of the web client: who is logged in, and the Danish words the pages use for
capacity, referral statuses, moves and timeline events. (The referral wizard's steps and
their validation live in the pure neighbour `wizard.py`.)

No I/O here: everything is a function of its arguments, so every rule is unit-tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from services.web import parsing
from shared.clock import COPENHAGEN
from shared.principal import Principal, Role


@dataclass(frozen=True)
class WebUser:
    """A person logged in to the web client (from the identity provider's claims)."""

    actor_id: str
    role: Role
    name: str = ""
    communities: tuple[str, ...] = field(default_factory=tuple)

    @property
    def principal(self) -> Principal:
        return Principal(self.actor_id, self.role, self.communities)

    @property
    def display_name(self) -> str:
        return self.name or self.actor_id

    @property
    def sees_all(self) -> bool:
        """Guides and admins see every referral and may erase a citizen."""
        return self.role in STAFF

    @property
    def refers(self) -> bool:
        return self.role in REFERRING

    @property
    def reads_contact(self) -> bool:
        """Contact data is read by those who arrange the first meeting, never by ambassadors."""
        return self.role in (Role.guide, Role.admin, Role.professional)


STAFF = frozenset({Role.guide, Role.admin})
REFERRING = frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador})
# Everyone who works with communities sees a community's contact person; analysts see aggregates.
SEES_COMMUNITY_CONTACT = frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador, Role.community_contact})

# ---------------------------------------------------------------------- capacity

# At or below this many open seats a community is shown as having few seats left.
FEW_SEATS = 3

CAPACITY_WORDS = {"open": "åben", "few": "få pladser", "waitlist": "venteliste", "full": "fuld"}


def capacity_key(status: str, available: int | None) -> str:
    """Which capacity word a community gets: open, few, waitlist or full."""
    if status == "full" or (status == "open" and available == 0):
        return "full"
    if status == "waitlist":
        return "waitlist"
    if available is not None and available <= FEW_SEATS:
        return "few"
    return "open"


def capacity_word(status: str, available: int | None) -> str:
    return CAPACITY_WORDS[capacity_key(status, available)]


def pending_words(pending: int) -> str:
    if pending == 0:
        return "ingen henvisninger venter på svar"
    if pending == 1:
        return "1 henvisning venter på svar"
    return f"{pending} henvisninger venter på svar"


# ---------------------------------------------------------------------- referrals

STATUS_WORDS = {
    "requested": "Sendt",
    "accepted": "Accepteret",
    "accompaniment_arranged": "Følgeskab aftalt",
    "accompanied": "Fulgt derhen",
    "welcomed": "Budt velkommen",
    "participating": "Deltager",
    "ended": "Stoppet",
    "rejected": "Afvist",
    "no_show": "Kom ikke",
    "cancelled": "Annulleret",
}
OPEN_STATUSES = ("requested", "accepted", "accompaniment_arranged", "accompanied")
AWAITING_STATUSES = ("requested", "accepted")
# A referral waiting this long for the community's answer is flagged as overdue.
OVERDUE_DAYS = 7

ACTION_WORDS = {
    "accept": "Accepter henvisningen",
    "arrange_accompaniment": "Aftal følgeskab",
    "accompany": "Borgeren er fulgt derhen",
    "welcome": "Bekræft at borgeren er budt velkommen",
    "confirm_participation": "Registrer deltagelse",
    "reject": "Afvis henvisningen",
    "propose_visit": "Foreslå første besøg",
    "no_show": "Borgeren kom ikke",
    "cancel": "Annuller henvisningen",
}
# Who may make each move (mirrors the referrals service, which decides): only buttons that
# will work are shown.
ACTORS_FOR = {
    "accept": frozenset({Role.guide, Role.admin, Role.community_contact}),
    "reject": frozenset({Role.guide, Role.admin, Role.community_contact}),
    "welcome": frozenset({Role.guide, Role.admin, Role.community_contact}),
    "arrange_accompaniment": frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador}),
    "accompany": frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador}),
    "confirm_participation": frozenset(
        {Role.guide, Role.admin, Role.community_contact, Role.professional, Role.ambassador}
    ),
    "propose_visit": frozenset({Role.guide, Role.admin, Role.community_contact}),
    "no_show": frozenset({Role.guide, Role.admin, Role.community_contact}),
    "cancel": frozenset({Role.guide, Role.admin, Role.professional, Role.ambassador}),
}
REJECTION_WORDS = {
    "full": "Der er ikke plads",
    "not_suitable": "Fællesskabet passer ikke til borgeren",
    "no_contact": "Vi kunne ikke få kontakt til borgeren",
    "other": "Anden grund",
}
EVENT_WORDS = {
    "ReferralCreated": "Henvisningen blev sendt",
    "ReferralAccepted": "Fællesskabet accepterede henvisningen",
    "AccompanimentArranged": "Følgeskab blev aftalt",
    "CitizenAccompanied": "Borgeren blev fulgt derhen",
    "WelcomeConfirmed": "Borgeren blev budt velkommen",
    "ParticipationConfirmed": "Deltagelse blev registreret",
    "ReferralRejected": "Henvisningen blev afvist",
    "ReferralCancelled": "Henvisningen blev annulleret",
    "FirstVisitProposed": "Fællesskabet foreslog et første besøg",
    "NoShowReported": "Borgeren kom ikke",
    "LonelinessMeasured": "Ensomhed blev målt (med samtykke)",
    "CitizenBridged": "Borgeren gik videre fra et øvespor",
}
# Who did it, by the event field that names them (the referral's referrer made it otherwise).
EVENT_ACTOR_FIELDS = ("confirmed_by", "proposed_by", "reported_by", "companion_id", "referrer_id")


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def event_word(event_type: str) -> str:
    return EVENT_WORDS.get(event_type, event_type)


def actor_of(data: Mapping[str, object]) -> str:
    """Who made a timeline event, where the event names them."""
    return next((str(data[name]) for name in EVENT_ACTOR_FIELDS if data.get(name)), "")


def moves_for(user: WebUser, allowed_actions: list[str]) -> list[str]:
    """The moves the state machine allows that this user's role may make, in its order."""
    return [action for action in allowed_actions if user.role in ACTORS_FOR.get(action, frozenset())]


def is_overdue(status: str, updated_at: datetime, now: datetime) -> bool:
    return status in AWAITING_STATUSES and now - updated_at >= timedelta(days=OVERDUE_DAYS)


def needs_my_action(user: WebUser, status: str, allowed_actions: list[str], needs_accompaniment: bool) -> bool:
    """Whether the referral waits for this user: a move of theirs other than cancelling it
    (a referrer's accompaniment is theirs to arrange only when the citizen needs it)."""
    moves = [move for move in moves_for(user, allowed_actions) if move != "cancel"]
    if user.role in (Role.professional, Role.ambassador) and not needs_accompaniment:
        moves = [move for move in moves if move not in ("arrange_accompaniment", "accompany")]
    return bool(moves)


def worklist_order(needs_action: bool, overdue: bool, updated_at: datetime) -> tuple[int, int, float]:
    """Sort key: what needs my action first, overdue next, then the oldest change first."""
    return (0 if needs_action else 1, 0 if overdue else 1, updated_at.timestamp())


def sees_note(user: WebUser, referrer_id: str) -> bool:
    """The referrer's note is theirs, the guides' and the admins' (the referrals service decides
    too; this keeps a page from showing one that reaches it anyway)."""
    return user.sees_all or user.actor_id == referrer_id


def refers_again(user: WebUser, status: str, referrer_id: str) -> bool:
    """After "kom ikke" the referrer (or a guide) may start a new referral for the same citizen."""
    return status == "no_show" and user.refers and (user.sees_all or user.actor_id == referrer_id)


# ---------------------------------------------------------------------- reception

# A community contact's answers to a referral, in the order a first meeting goes: a new one is
# accepted (or declined), with a first visit proposed; one on its way is welcomed or did not come.
RECEPTION_MOVES = ("accept", "propose_visit", "welcome", "no_show", "reject")
RECEPTION_MOVES_OF = {"new": ("accept", "propose_visit", "reject"), "coming": RECEPTION_MOVES, "closed": ()}
# The receiving side reads a sent referral as new.
RECEIVED_WORDS = STATUS_WORDS | {"requested": "Ny"}
# The reasons a volunteer declines for (the guides' "other" needs words a mail cannot carry).
DECLINE_WORDS = {reason: words for reason, words in REJECTION_WORDS.items() if reason != "other"}
# What a community contact may say about its seats: the capacity words, as choices.
CAPACITY_CHOICES = {key: CAPACITY_WORDS[key].capitalize() for key in ("open", "few", "full")}
# "Få pladser" without a number of seats means this many (and at most the community's total).
FEW_SEATS_DEFAULT = 2
PAUSE_WEEKS = (1, 2, 4)
# A first visit's form fields (the date has the referrals service's name, so its refusal lands there).
VISIT_FIELDS = ("visit_at", "visit_time")


def reception_group(status: str) -> str:
    """Where a referral stands on the contact's page: "new" (waits for their answer), "coming"
    (accepted, the welcome not yet confirmed) or "closed"."""
    if status == "requested":
        return "new"
    return "coming" if status in OPEN_STATUSES else "closed"


def capacity_report(choice: str, total: int | None, available: int | None) -> dict[str, object]:
    """The catalogue's capacity report for a contact's "åben", "få pladser" or "fuld" (the
    total is kept; seats already counted are kept when they still say the same)."""
    if choice == "full":
        return {"total": total, "available": 0, "status": "full"}
    if choice == "few":
        few = FEW_SEATS_DEFAULT if total is None else max(1, min(FEW_SEATS_DEFAULT, total))
        keep = available is not None and 0 < available <= FEW_SEATS
        return {"total": total, "available": available if keep else few, "status": "open"}
    if choice == "open":
        keep = available is not None and available > FEW_SEATS
        return {"total": total, "available": available if keep else None, "status": "open"}
    raise ValueError(f"unknown capacity choice {choice!r}")


def pause_until(weeks: int, now: datetime) -> datetime:
    """The end of a pause of `weeks` weeks: that many weeks on, at the start of the day
    (Copenhagen), so mail comes back in the morning."""
    day = (now.astimezone(COPENHAGEN) + timedelta(weeks=weeks)).date()
    return datetime.combine(day, time(7, 0), COPENHAGEN)


def visit_time(
    day_text: str, clock_text: str, now: datetime, ids: tuple[str, str]
) -> tuple[datetime | None, list[tuple[str, str]]]:
    """A first visit's date ("2026-12-08" as a date field sends it, or "8.12.2026") and time
    ("17:00" or "17.00") on the Copenhagen wall clock; or the fields (`ids`) to fix."""
    day, clock = parsing.day(day_text), parsing.clock(clock_text, minutes_required=True)
    errors = []
    if day is None:
        errors.append((ids[0], "Skriv datoen for besøget"))
    if clock is None:
        errors.append((ids[1], "Skriv klokkeslættet for besøget"))
    if day is None or clock is None:
        return None, errors
    moment = datetime.combine(day, clock, COPENHAGEN)
    if moment <= now:
        return None, [(ids[0], "Besøget skal ligge ude i fremtiden")]
    if moment > now + timedelta(days=366):
        return None, [(ids[0], "Besøget skal ligge inden for et år")]
    return moment, []
