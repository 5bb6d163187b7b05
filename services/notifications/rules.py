"""What to tell whom, and when: the notification rules, pure (facts and `now` in, decisions out).

Timers count from event time, so a back-dated event's passed deadlines fire at once; history
older than `historic_after` decides nothing at all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta

from services.notifications.domain import (
    REFERRER_ROLES_FOR_NUDGES,
    Community,
    Fired,
    Notify,
    Recipient,
    Referral,
    Rule,
    Thresholds,
    Timer,
    community_recipient,
    is_historic,
)
from shared.clock import COPENHAGEN, local


def timers_for_referral(referral: Referral, now: datetime, thresholds: Thresholds) -> list[Timer]:
    """Timers from event time: a back-dated referral's passed deadlines fire at once, unless
    the referral is historic, in which case nothing is scheduled at all."""
    if is_historic(referral.created_at, now, thresholds):
        return []
    rid, created = referral.referral_id, referral.created_at
    timers = [Timer(Rule.welcome_contact, rid, created, rid)]
    if referral.needs_accompaniment:
        timers.append(Timer(Rule.accompaniment_needed, rid, created + thresholds.accompaniment_after, rid))
    timers.append(Timer(Rule.welcome_followup, rid, created + thresholds.welcome_followup_after, rid))
    timers.append(Timer(Rule.welcome_escalation, rid, created + thresholds.welcome_escalation_after, rid))
    return timers


def referral_context(referral: Referral, community: Community | None) -> dict[str, object]:
    return {
        "referral_id": referral.referral_id,
        "community_name": community.name if community else "fællesskabet",
        "community_area": community.area if community else None,
        "created_at": referral.created_at,
        "needs_accompaniment": referral.needs_accompaniment,
        "special_considerations": referral.special_considerations,
    }


def community_holder(community_id: str) -> dict[str, object]:
    """A community's contact holds its one-click links as the community (they may have no
    account): the links' actor is `community:<id>` in the role community_contact."""
    return {"actor_id": community_recipient(community_id), "role": "community_contact", "communities": [community_id]}


def referrer_name(referral: Referral, directory: Sequence[Recipient]) -> str:
    """How the guides know the referrer: by name, else by actor id."""
    referrer = next((person for person in directory if person.actor_id == referral.referrer_id), None)
    return (referrer.name or referrer.actor_id) if referrer else referral.referrer_id


def fire_welcome_contact(
    referral: Referral, community: Community | None, now: datetime, thresholds: Thresholds
) -> Fired:
    """The community hears someone is coming, with one-click links to answer (signed when the
    message is rendered, for the community as their holder, valid from now)."""
    if not referral.is_open:
        return Fired()
    if community is None:
        # The catalogue stream may lag the referrals stream: wait a while for the community.
        if now - referral.created_at < thresholds.community_wait:
            return Fired(again_at=now + thresholds.community_retry)
        return Fired()
    context = referral_context(referral, community) | {
        "contact_name": community.contact_name,
        "community_id": community.community_id,
        "holder": community_holder(community.community_id),
        "issued_at": now,
    }
    recipient = community_recipient(community.community_id)
    return Fired([Notify(Rule.welcome_contact, recipient, referral.referral_id, referral.referral_id, context)])


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.actor_id, recipient)
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
        person
        for person in directory
        if person.role in REFERRER_ROLES_FOR_NUDGES
        and person.offers_accompaniment
        and area is not None
        and person.area == area
        and person.actor_id != referral.referrer_id
    ]
    guides = [person for person in directory if person.role == "guide"]
    waited_hours = int((now - referral.created_at).total_seconds() // 3600)
    context = referral_context(referral, community) | {"waited_hours": waited_hours}
    return Fired(
        [
            Notify(
                Rule.accompaniment_needed,
                person.actor_id,
                referral.referral_id,
                referral.referral_id,
                context | {"as_guide": person.role == "guide"},
            )
            for person in _unique([*companions, *guides])
        ]
    )


def fire_welcome_followup(referral: Referral, community: Community | None, now: datetime) -> Fired:
    if not referral.is_open:
        return Fired()
    context = referral_context(referral, community) | {"days": (now - referral.created_at).days}
    rid = referral.referral_id
    return Fired([Notify(Rule.welcome_followup, referral.referrer_id, rid, rid, context)])


def fire_welcome_escalation(
    referral: Referral, community: Community | None, directory: Sequence[Recipient], now: datetime
) -> Fired:
    if not referral.is_open:
        return Fired()
    context = referral_context(referral, community) | {
        "days": (now - referral.created_at).days,
        "referrer_name": referrer_name(referral, directory),
    }
    rid = referral.referral_id
    return Fired(
        [
            Notify(Rule.welcome_escalation, guide.actor_id, rid, rid, context)
            for guide in directory
            if guide.role == "guide"
        ]
    )


def on_welcome_confirmed(
    referral: Referral, community: Community | None, event_time: datetime, now: datetime, thresholds: Thresholds
) -> list[Notify]:
    if is_historic(event_time, now, thresholds):
        return []
    context = referral_context(referral, community) | {"welcomed_at": event_time}
    rid = referral.referral_id
    return [Notify(Rule.welcome_confirmed, referral.referrer_id, rid, rid, context)]


# ---------------------------------------------------------------------------- referrer rules


def dormant_timer(recipient: Recipient, thresholds: Thresholds) -> Timer | None:
    if recipient.role not in REFERRER_ROLES_FOR_NUDGES or recipient.activated_at is None:
        return None
    since = max(moment for moment in (recipient.activated_at, recipient.last_referral_at) if moment is not None)
    return Timer(Rule.dormant_referrer, recipient.actor_id, since + thresholds.dormant_after)


def dormant_timer_from(recipient: Recipient, now: datetime, thresholds: Thresholds) -> Timer | None:
    timer = dormant_timer(recipient, thresholds)
    if timer is None:
        return None
    return Timer(timer.rule, timer.subject_id, max(timer.due_at, now + thresholds.dormant_grace))


def digest_timer(recipient: Recipient, now: datetime, thresholds: Thresholds) -> Timer:
    return Timer(Rule.weekly_digest, recipient.actor_id, next_digest_at(now, thresholds))


def communities_with_room(communities: Iterable[Community], area: str | None, limit: int = 3) -> list[Community]:
    fitting = [
        community
        for community in communities
        if community.has_room and not community.archived and area is not None and community.area == area
    ]
    return sorted(fitting, key=lambda community: (community.name.casefold(), community.community_id))[:limit]


def fire_dormant_referrer(
    recipient: Recipient, communities: Iterable[Community], now: datetime, thresholds: Thresholds
) -> Fired:
    timer = dormant_timer(recipient, thresholds)
    if timer is None:
        return Fired()
    if timer.due_at > now:  # a referral arrived since the timer was set: look again later
        return Fired(again_at=timer.due_at)
    suggestions = communities_with_room(communities, recipient.area)
    context: dict[str, object] = {
        "name": recipient.name,
        "area": recipient.area,
        "communities": [{"name": community.name, "area": community.area} for community in suggestions],
        "last_referral_at": recipient.last_referral_at,
    }
    subject = f"{recipient.actor_id}@{local(now).date().isoformat()}"
    return Fired(
        [Notify(Rule.dormant_referrer, recipient.actor_id, subject, None, context)],
        again_at=now + thresholds.dormant_after,
    )


def next_digest_at(after: datetime, thresholds: Thresholds) -> datetime:
    """The next digest moment (weekday and hour in Copenhagen) strictly after `after`."""
    day = local(after).date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() != thresholds.digest_weekday:
            continue
        moment = datetime.combine(candidate_day, time(thresholds.digest_hour), COPENHAGEN).astimezone(UTC)
        if moment > after:
            return moment
    return next_digest_at(after + timedelta(days=1), thresholds)


def fire_weekly_digest(
    recipient: Recipient,
    referrals: Sequence[Referral],
    communities: dict[str, Community],
    now: datetime,
    thresholds: Thresholds,
) -> Fired:
    # The next digest counts from now, not from the missed moment: no catch-up burst.
    again = next_digest_at(now, thresholds)
    referrals = [referral for referral in referrals if not referral.erased]  # not even as "cancelled"
    week_start = now - timedelta(days=7)
    open_referrals = [referral for referral in referrals if referral.is_open]
    happened = sorted(
        ((at, kind, referral) for referral in referrals for at, kind in referral.happenings(week_start, now)),
        key=lambda item: (item[0], item[2].referral_id),
    )
    if not open_referrals and not happened:
        return Fired(again_at=again)

    def name(referral: Referral) -> str:
        community = communities.get(referral.community_id)
        return community.name if community else referral.community_id

    context: dict[str, object] = {
        "name": recipient.name,
        "open": [
            {
                "community_name": name(referral),
                "created_at": referral.created_at,
                "referral_id": referral.referral_id,
                "needs_accompaniment": referral.needs_accompaniment,
                "has_companion": referral.has_companion,
            }
            for referral in sorted(open_referrals, key=lambda referral: referral.created_at)
        ],
        "happened": [
            {"at": at, "kind": kind, "community_name": name(referral), "referral_id": referral.referral_id}
            for at, kind, referral in happened
        ],
    }
    year, week, _ = local(now).isocalendar()
    subject = f"{recipient.actor_id}@{year}-W{week:02d}"
    return Fired([Notify(Rule.weekly_digest, recipient.actor_id, subject, None, context)], again_at=again)


DIGEST_LISTS = ("open", "happened")


def digest_without(context: Mapping[str, object], referral_ids: Collection[str]) -> dict[str, object] | None:
    """A digest's facts without its lines about these referrals (their citizen was erased);
    None when nothing else is left in it (there are no empty digests)."""
    redacted = dict(context)
    for name in DIGEST_LISTS:
        lines = context.get(name)
        if isinstance(lines, list):
            redacted[name] = [
                line for line in lines if not (isinstance(line, dict) and line.get("referral_id") in referral_ids)
            ]
    if not any(redacted.get(name) for name in DIGEST_LISTS):
        return None
    return redacted
