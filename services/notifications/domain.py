"""The notification domain, pure: the rules' names, thresholds, facts and decisions. No I/O.

The rules themselves are in `rules.py` (what to tell whom, and when) and `routing.py` (over
which channel, respecting preferences, quiet hours and the daily cap).

Decisions are of three kinds: `Notify` (tell a recipient something, once per dedup key),
`Timer` (re-evaluate a rule at a moment computed from event time) and, when a timer fires,
`Fired` (what to send and whether to look again later). Recipients are actor ids from the
referrals directory, or `community:<id>` for a community's welcome contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from shared.principal import Principal, Role


class Rule(StrEnum):
    welcome_contact = "welcome_contact"  # 1: someone is coming, with the one-click link
    accompaniment_needed = "accompaniment_needed"  # 2: nobody accompanies yet after 48 h
    welcome_followup = "welcome_followup"  # 3a: no welcome after 7 days, nudge the referrer
    welcome_escalation = "welcome_escalation"  # 3b: still none after 14 days, tell the guides
    welcome_confirmed = "welcome_confirmed"  # 4: close the loop with the referrer
    dormant_referrer = "dormant_referrer"  # 5: no referral for 30 days
    weekly_digest = "weekly_digest"  # 6: the referrer's week
    visit_proposed = "visit_proposed"  # 7: the community proposed a first visit
    no_show = "no_show"  # 8: the citizen did not come; the referrer may refer again
    participation_followup = "participation_followup"  # 9: still taking part, 4 and 12 weeks on?
    participation_reminder = "participation_reminder"  # 9b: once, a week later, if unanswered
    participation_unanswered = "participation_unanswered"  # 9c: still no answer: tell the guides


# The timers a referral's welcome (or ending) makes pointless.
REFERRAL_TIMERS = (Rule.welcome_contact, Rule.accompaniment_needed, Rule.welcome_followup, Rule.welcome_escalation)
# After the welcome: asked at 4 and 12 weeks, each question with its own timers.
PARTICIPATION_WEEKS = (4, 12)
PARTICIPATION_RULES = (Rule.participation_followup, Rule.participation_reminder, Rule.participation_unanswered)
PERSONAL_CHANNELS = ("email", "sms")
REFERRER_ROLES_FOR_NUDGES = ("professional", "ambassador")


@dataclass(frozen=True)
class Thresholds:
    accompaniment_after: timedelta = timedelta(hours=48)
    welcome_followup_after: timedelta = timedelta(days=7)
    welcome_escalation_after: timedelta = timedelta(days=14)
    historic_after: timedelta = timedelta(days=30)
    dormant_after: timedelta = timedelta(days=30)
    community_wait: timedelta = timedelta(hours=24)
    community_retry: timedelta = timedelta(minutes=1)
    # A dormancy nudge due in the past waits this long, so that an import of old activations
    # has time to bring the same people's referrals before anyone is called dormant.
    dormant_grace: timedelta = timedelta(hours=1)
    digest_weekday: int = 0
    digest_hour: int = 8
    participation_reminder_after: timedelta = timedelta(days=7)
    participation_unanswered_after: timedelta = timedelta(days=7)


# ---------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Recipient:
    actor_id: str
    role: str
    area: str | None = None
    offers_accompaniment: bool = False
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    activated_at: datetime | None = None
    last_referral_at: datetime | None = None


@dataclass(frozen=True)
class Community:
    community_id: str
    name: str
    area: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    has_room: bool = True
    archived: bool = False


@dataclass(frozen=True)
class Referral:
    referral_id: str
    referrer_id: str
    community_id: str
    created_at: datetime
    needs_accompaniment: bool = False
    special_considerations: bool = False
    accompaniment_arranged_at: datetime | None = None
    accompanied_at: datetime | None = None
    welcomed_at: datetime | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    cancelled_at: datetime | None = None
    companion_id: str | None = None
    no_show_at: datetime | None = None
    citizen_ref: str | None = None  # pseudonymous: to find a citizen's referrals when they are erased
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        """Its citizen was erased: nothing about it is ever told to anyone again."""
        return self.erased_at is not None

    @property
    def ended(self) -> bool:
        """Rejected, cancelled, the citizen did not come or was erased: nothing more to follow up."""
        return (
            self.rejected_at is not None
            or self.cancelled_at is not None
            or self.no_show_at is not None
            or self.erased_at is not None
        )

    def forgotten(self, at: datetime) -> Referral:
        """What is kept of a referral once its citizen is erased: that it existed (so no replayed
        or late event about it plans anything again) and whose it was; none of its facts."""
        return Referral(
            referral_id=self.referral_id,
            referrer_id=self.referrer_id,
            community_id=self.community_id,
            created_at=self.created_at,
            citizen_ref=self.citizen_ref,
            erased_at=self.erased_at or at,
        )

    @property
    def is_open(self) -> bool:
        return self.welcomed_at is None and not self.ended

    @property
    def has_companion(self) -> bool:
        return self.accompaniment_arranged_at is not None or self.accompanied_at is not None

    def happenings(self, since: datetime, until: datetime) -> list[tuple[datetime, str]]:
        """What happened to this referral in (since, until], as (time, kind), in time order."""
        moments = [
            (self.created_at, "created"),
            (self.accompaniment_arranged_at, "accompaniment_arranged"),
            (self.accompanied_at, "accompanied"),
            (self.welcomed_at, "welcomed"),
            (self.rejected_at, "rejected"),
            (self.cancelled_at, "cancelled"),
            (self.no_show_at, "no_show"),
        ]
        return sorted((at, kind) for at, kind in moments if at is not None and since < at <= until)


COMMUNITY_PREFIX = "community:"
# A pause is for a holiday or a full season, not for good (opting out of rules is for that).
LONGEST_PAUSE = timedelta(days=366)


def community_recipient(community_id: str) -> str:
    """The recipient id of a community's welcome contact (their token lists the community)."""
    return f"{COMMUNITY_PREFIX}{community_id}"


def participation_subject(referral_id: str, weeks: int) -> str:
    """The subject of a follow-up question's timers and messages: one per referral and week."""
    return f"{referral_id}@{weeks}w"


def weeks_of(subject_id: str) -> int:
    return int(subject_id.rsplit("@", 1)[1].removesuffix("w"))


TimerKey = tuple[Rule, str]  # (rule, subject): a timer is unique per both


def welcome_timer_keys(referral_id: str) -> list[TimerKey]:
    return [(rule, referral_id) for rule in REFERRAL_TIMERS]


def participation_timer_keys(referral_id: str, weeks: Iterable[int] = PARTICIPATION_WEEKS) -> list[TimerKey]:
    return [(rule, participation_subject(referral_id, w)) for w in weeks for rule in PARTICIPATION_RULES]


def may_pause(principal: Principal, community_id: str) -> bool:
    """A community's contact pauses its mail (also through a one-click link); guides and admins
    may do it for them."""
    if principal.role in (Role.guide, Role.admin):
        return True
    return principal.role is Role.community_contact and community_id in principal.communities


def pause_problem(until: datetime | None, now: datetime) -> str | None:
    """Why a pause until `until` cannot be set (None: it can; None as `until` ends a pause)."""
    if until is not None and until - now > LONGEST_PAUSE:
        return "a pause can last at most a year; choose an earlier date"
    return None


# ---------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Notify:
    rule: Rule
    recipient_id: str
    subject_id: str  # what the message is about: a referral id, or actor@period
    referral_id: str | None = None
    context: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def dedup_key(self) -> str:
        """One message per rule, subject and recipient, however often the cause is replayed."""
        return f"{self.rule.value}|{self.subject_id}|{self.recipient_id}"


@dataclass(frozen=True)
class Timer:
    rule: Rule
    subject_id: str
    due_at: datetime
    referral_id: str | None = None


@dataclass(frozen=True)
class Fired:
    notify: list[Notify] = field(default_factory=list)
    again_at: datetime | None = None  # None: the timer is done
    then: list[Timer] = field(default_factory=list)  # the next step's timers (a reminder)


def is_historic(event_time: datetime, now: datetime, thresholds: Thresholds) -> bool:
    """Imported history (older than the threshold) must not make anyone's phone buzz."""
    return now - event_time > thresholds.historic_after
