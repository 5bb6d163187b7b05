"""The notification rules, pure: facts and an injected `now` in, decisions out. No I/O.

Decisions are of three kinds: `Notify` (tell a recipient something, once per dedup key),
`Timer` (re-evaluate a rule at a moment computed from event time) and, when a timer fires,
`Fired` (what to send and whether to look again later). Recipients are actor ids from the
referrals directory, or `community:<id>` for a community's welcome contact.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class Rule(StrEnum):
    welcome_contact = "welcome_contact"  # 1: someone is coming, with the one-click link
    accompaniment_needed = "accompaniment_needed"  # 2: nobody accompanies yet after 48 h
    welcome_followup = "welcome_followup"  # 3a: no welcome after 7 days, nudge the referrer
    welcome_escalation = "welcome_escalation"  # 3b: still none after 14 days, tell the guides
    welcome_confirmed = "welcome_confirmed"  # 4: close the loop with the referrer
    dormant_referrer = "dormant_referrer"  # 5: no referral for 30 days
    weekly_digest = "weekly_digest"  # 6: the referrer's week


# The timers a referral's ending makes pointless.
REFERRAL_TIMERS = (Rule.welcome_contact, Rule.accompaniment_needed, Rule.welcome_followup, Rule.welcome_escalation)
PERSONAL_CHANNELS = ("email", "sms")
CHANNELS = ("inbox", *PERSONAL_CHANNELS)
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

    @property
    def is_open(self) -> bool:
        return self.welcomed_at is None and self.rejected_at is None and self.cancelled_at is None

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
        ]
        return sorted((at, kind) for at, kind in moments if at is not None and since < at <= until)


def community_recipient(community_id: str) -> str:
    """The recipient id of a community's welcome contact (their token lists the community)."""
    return f"community:{community_id}"


# ---------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Notify:
    rule: Rule
    recipient_id: str
    subject_id: str  # what the message is about: a referral id, or actor@period
    referral_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def dedup_key(self) -> str:
        """One message per rule, subject and recipient, however often the cause is replayed."""
        return f"{self.rule}|{self.subject_id}|{self.recipient_id}"


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


def is_historic(event_time: datetime, now: datetime, th: Thresholds) -> bool:
    """Imported history (older than the threshold) must not make anyone's phone buzz."""
    return now - event_time > th.historic_after


# ---------------------------------------------------------------------------- referral rules


def timers_for_referral(referral: Referral, now: datetime, th: Thresholds) -> list[Timer]:
    """Timers from event time: a back-dated referral's passed deadlines fire at once, unless
    the referral is historic, in which case nothing is scheduled at all."""
    if is_historic(referral.created_at, now, th):
        return []
    rid, created = referral.referral_id, referral.created_at
    timers = [Timer(Rule.welcome_contact, rid, created, rid)]
    if referral.needs_accompaniment:
        timers.append(Timer(Rule.accompaniment_needed, rid, created + th.accompaniment_after, rid))
    timers.append(Timer(Rule.welcome_followup, rid, created + th.welcome_followup_after, rid))
    timers.append(Timer(Rule.welcome_escalation, rid, created + th.welcome_escalation_after, rid))
    return timers


def _referral_context(referral: Referral, community: Community | None) -> dict[str, Any]:
    return {
        "referral_id": referral.referral_id,
        "community_name": community.name if community else "fællesskabet",
        "community_area": community.area if community else None,
        "created_at": referral.created_at,
        "needs_accompaniment": referral.needs_accompaniment,
        "special_considerations": referral.special_considerations,
    }


def fire_welcome_contact(
    referral: Referral, community: Community | None, welcome_link: str, now: datetime, th: Thresholds
) -> Fired:
    if not referral.is_open:
        return Fired()
    if community is None:
        # The catalogue stream may lag the referrals stream: wait a while for the community.
        if now - referral.created_at < th.community_wait:
            return Fired(again_at=now + th.community_retry)
        return Fired()
    context = _referral_context(referral, community) | {
        "welcome_link": welcome_link,
        "contact_name": community.contact_name,
    }
    recipient = community_recipient(community.community_id)
    return Fired([Notify(Rule.welcome_contact, recipient, referral.referral_id, referral.referral_id, context)])


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for r in recipients:
        seen.setdefault(r.actor_id, r)
    return list(seen.values())


def fire_accompaniment_needed(
    referral: Referral,
    community: Community | None,
    directory: Sequence[Recipient],
    now: datetime,
) -> Fired:
    if not referral.is_open or referral.has_companion:
        return Fired()
    area = community.area if community else None
    companions = [
        r
        for r in directory
        if r.role in REFERRER_ROLES_FOR_NUDGES
        and r.offers_accompaniment
        and area is not None
        and r.area == area
        and r.actor_id != referral.referrer_id
    ]
    guides = [r for r in directory if r.role == "guide"]
    waited_hours = int((now - referral.created_at).total_seconds() // 3600)
    context = _referral_context(referral, community) | {"waited_hours": waited_hours}
    return Fired(
        [
            Notify(
                Rule.accompaniment_needed,
                r.actor_id,
                referral.referral_id,
                referral.referral_id,
                context | {"as_guide": r.role == "guide"},
            )
            for r in _unique([*companions, *guides])
        ]
    )


def fire_welcome_followup(referral: Referral, community: Community | None, now: datetime) -> Fired:
    if not referral.is_open:
        return Fired()
    context = _referral_context(referral, community) | {"days": (now - referral.created_at).days}
    rid = referral.referral_id
    return Fired([Notify(Rule.welcome_followup, referral.referrer_id, rid, rid, context)])


def fire_welcome_escalation(
    referral: Referral, community: Community | None, directory: Sequence[Recipient], now: datetime
) -> Fired:
    if not referral.is_open:
        return Fired()
    referrer = next((r for r in directory if r.actor_id == referral.referrer_id), None)
    context = _referral_context(referral, community) | {
        "days": (now - referral.created_at).days,
        "referrer_name": (referrer.name or referrer.actor_id) if referrer else referral.referrer_id,
    }
    rid = referral.referral_id
    return Fired(
        [Notify(Rule.welcome_escalation, g.actor_id, rid, rid, context) for g in directory if g.role == "guide"]
    )


def on_welcome_confirmed(
    referral: Referral, community: Community | None, event_time: datetime, now: datetime, th: Thresholds
) -> list[Notify]:
    if is_historic(event_time, now, th):
        return []
    context = _referral_context(referral, community) | {"welcomed_at": event_time}
    rid = referral.referral_id
    return [Notify(Rule.welcome_confirmed, referral.referrer_id, rid, rid, context)]


# ---------------------------------------------------------------------------- referrer rules


def dormant_timer(recipient: Recipient, th: Thresholds) -> Timer | None:
    if recipient.role not in REFERRER_ROLES_FOR_NUDGES or recipient.activated_at is None:
        return None
    since = max(t for t in (recipient.activated_at, recipient.last_referral_at) if t is not None)
    return Timer(Rule.dormant_referrer, recipient.actor_id, since + th.dormant_after)


def dormant_timer_from(recipient: Recipient, now: datetime, th: Thresholds) -> Timer | None:
    timer = dormant_timer(recipient, th)
    if timer is None:
        return None
    return Timer(timer.rule, timer.subject_id, max(timer.due_at, now + th.dormant_grace))


def digest_timer(recipient: Recipient, now: datetime, th: Thresholds) -> Timer:
    return Timer(Rule.weekly_digest, recipient.actor_id, next_digest_at(now, th))


def communities_with_room(communities: Iterable[Community], area: str | None, limit: int = 3) -> list[Community]:
    fitting = [c for c in communities if c.has_room and not c.archived and area is not None and c.area == area]
    return sorted(fitting, key=lambda c: (c.name.casefold(), c.community_id))[:limit]


def fire_dormant_referrer(
    recipient: Recipient, communities: Iterable[Community], now: datetime, th: Thresholds
) -> Fired:
    timer = dormant_timer(recipient, th)
    if timer is None:
        return Fired()
    if timer.due_at > now:  # a referral arrived since the timer was set: look again later
        return Fired(again_at=timer.due_at)
    suggestions = communities_with_room(communities, recipient.area)
    context = {
        "name": recipient.name,
        "area": recipient.area,
        "communities": [{"name": c.name, "area": c.area} for c in suggestions],
        "last_referral_at": recipient.last_referral_at,
    }
    subject = f"{recipient.actor_id}@{local(now).date().isoformat()}"
    return Fired(
        [Notify(Rule.dormant_referrer, recipient.actor_id, subject, None, context)],
        again_at=now + th.dormant_after,
    )


def next_digest_at(after: datetime, th: Thresholds) -> datetime:
    """The next digest moment (weekday and hour in Copenhagen) strictly after `after`."""
    day = local(after).date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() != th.digest_weekday:
            continue
        moment = datetime.combine(candidate_day, time(th.digest_hour), COPENHAGEN).astimezone(UTC)
        if moment > after:
            return moment
    return next_digest_at(after + timedelta(days=1), th)


def fire_weekly_digest(
    recipient: Recipient,
    referrals: Sequence[Referral],
    communities: dict[str, Community],
    now: datetime,
    th: Thresholds,
) -> Fired:
    # The next digest counts from now, not from the missed moment: no catch-up burst.
    again = next_digest_at(now, th)
    week_start = now - timedelta(days=7)
    open_referrals = [r for r in referrals if r.is_open]
    happened = sorted(
        ((at, kind, r) for r in referrals for at, kind in r.happenings(week_start, now)),
        key=lambda item: (item[0], item[2].referral_id),
    )
    if not open_referrals and not happened:
        return Fired(again_at=again)

    def name(r: Referral) -> str:
        c = communities.get(r.community_id)
        return c.name if c else r.community_id

    context = {
        "name": recipient.name,
        "open": [
            {
                "community_name": name(r),
                "created_at": r.created_at,
                "referral_id": r.referral_id,
                "needs_accompaniment": r.needs_accompaniment,
                "has_companion": r.has_companion,
            }
            for r in sorted(open_referrals, key=lambda r: r.created_at)
        ],
        "happened": [
            {"at": at, "kind": kind, "community_name": name(r), "referral_id": r.referral_id}
            for at, kind, r in happened
        ],
    }
    year, week, _ = local(now).isocalendar()
    subject = f"{recipient.actor_id}@{year}-W{week:02d}"
    return Fired([Notify(Rule.weekly_digest, recipient.actor_id, subject, None, context)], again_at=again)


# ---------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class Preferences:
    channels: frozenset[str] = frozenset({"email"})
    opted_out: frozenset[str] = frozenset()
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(7, 0)
    daily_cap: int = 10


@dataclass(frozen=True)
class PlannedDelivery:
    channel: str
    address: str
    not_before: datetime


def local(moment: datetime) -> datetime:
    return moment.astimezone(COPENHAGEN)


def parse_clock_time(text: str) -> time:
    """'HH:MM' in Europe/Copenhagen."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(now: datetime, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    t = local(now).time()
    if start < end:
        return start <= t < end
    return t >= start or t < end  # the quiet hours span midnight


def quiet_hours_over(now: datetime, start: time | None, end: time | None) -> datetime:
    """When a personal message decided at `now` may go out: now, or the morning after."""
    if not in_quiet_hours(now, start, end):
        return now
    assert end is not None
    here = local(now)
    morning = datetime.combine(here.date(), end, COPENHAGEN)
    if morning <= here:
        morning = datetime.combine(here.date() + timedelta(days=1), end, COPENHAGEN)
    return morning.astimezone(UTC)


def route(
    notify: Notify,
    prefs: Preferences,
    *,
    email: str | None,
    phone: str | None,
    personal_sent_today: int,
    sms_enabled: bool,
    now: datetime,
) -> list[PlannedDelivery] | None:
    """Which channels carry the message; None when the recipient opted out of the rule.

    The inbox always gets it (it is the row itself). E-mail and SMS follow the recipient's
    channels, wait for the end of quiet hours, and stop once the daily cap is reached.
    """
    if str(notify.rule) in prefs.opted_out:
        return None
    if personal_sent_today >= prefs.daily_cap:
        return []
    not_before = quiet_hours_over(now, prefs.quiet_start, prefs.quiet_end)
    planned = []
    if "email" in prefs.channels and email:
        planned.append(PlannedDelivery("email", email, not_before))
    if sms_enabled and "sms" in prefs.channels and phone:
        planned.append(PlannedDelivery("sms", phone, not_before))
    return planned


def retry_at(attempts: int, backoff: Sequence[float], now: datetime) -> datetime:
    """When to try a failed delivery again after `attempts` tries (the last step repeats)."""
    if not backoff:
        return now
    return now + timedelta(seconds=backoff[min(attempts, len(backoff)) - 1])


def sign_webhook(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
