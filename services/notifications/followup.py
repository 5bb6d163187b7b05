"""After the referral reached the community, pure: the proposed first visit, the citizen who
did not come, and the follow-up questions 4 and 12 weeks after the welcome (with a reminder
and, when nobody answers, word to the guides). Facts and `now` in, decisions out.

One-click links are described, not signed, here: a message's facts name who holds its links
(`holder`) and when they were issued; `messages.py` signs them when the message is rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from services.notifications.domain import (
    PARTICIPATION_WEEKS,
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
    participation_subject,
)
from services.notifications.rules import community_holder, referral_context, referrer_name

REFERRER = "referrer"
CONTACT = "contact"  # the `followup_recipient` setting: who is asked whether the citizen still takes part


def person_holder(person: Recipient) -> dict[str, object]:
    return {"actor_id": person.actor_id, "role": person.role, "communities": []}


# ---------------------------------------------------------------------------- the first visit


def on_visit_proposed(
    referral: Referral,
    community: Community | None,
    visit_at: datetime,
    proposed_by: str,
    event_time: datetime,
    now: datetime,
    thresholds: Thresholds,
) -> list[Notify]:
    """The referrer and the companion hear of the proposed visit (not whoever proposed it).
    A new proposal is a new message; a visit already past, or history, tells no one."""
    if is_historic(event_time, now, thresholds) or not referral.is_open or visit_at <= now:
        return []
    rid = referral.referral_id
    subject = f"{rid}@{visit_at.isoformat()}"
    context = referral_context(referral, community) | {"visit_at": visit_at}
    told = [(referral.referrer_id, False)]
    if referral.companion_id and referral.companion_id != referral.referrer_id:
        told.append((referral.companion_id, True))
    return [
        Notify(Rule.visit_proposed, actor_id, subject, rid, context | {"as_companion": as_companion})
        for actor_id, as_companion in told
        if actor_id != proposed_by
    ]


def on_no_show(
    referral: Referral, community: Community | None, event_time: datetime, now: datetime, thresholds: Thresholds
) -> list[Notify]:
    """The referrer hears that the citizen did not come, with the way to refer again."""
    if is_historic(event_time, now, thresholds):
        return []
    rid = referral.referral_id
    return [Notify(Rule.no_show, referral.referrer_id, rid, rid, referral_context(referral, community))]


# ---------------------------------------------------------------------------- participation


def participation_timers(
    referral: Referral, welcomed_at: datetime, now: datetime, thresholds: Thresholds
) -> list[Timer]:
    """The 4- and 12-week questions, counted from the welcome's event time: a back-dated welcome
    asks a passed question at once, but not one that is itself history (an import)."""
    rid = referral.referral_id
    timers = []
    for weeks in PARTICIPATION_WEEKS:
        due = welcomed_at + timedelta(weeks=weeks)
        if not is_historic(due, now, thresholds):
            timers.append(Timer(Rule.participation_followup, participation_subject(rid, weeks), due, rid))
    return timers


def _asked(
    referral: Referral, community: Community | None, referrer: Recipient | None, recipient: str
) -> tuple[str, dict[str, object] | None]:
    """Who is asked (the referrer, or with `followup_recipient=contact` the community) and who
    holds the answer links: none when the referrer is not in the directory (role unknown)."""
    if recipient == CONTACT:
        return community_recipient(referral.community_id), community_holder(referral.community_id)
    return referral.referrer_id, person_holder(referrer) if referrer is not None else None


def _question(
    rule: Rule,
    referral: Referral,
    community: Community | None,
    referrer: Recipient | None,
    weeks: int,
    recipient: str,
    now: datetime,
) -> Notify:
    recipient_id, holder = _asked(referral, community, referrer, recipient)
    context = referral_context(referral, community) | {
        "weeks": weeks,
        "welcomed_at": referral.welcomed_at,
        "to_contact": recipient == CONTACT,
        "holder": holder,
        "issued_at": now,
    }
    rid = referral.referral_id
    return Notify(rule, recipient_id, participation_subject(rid, weeks), rid, context)


def _still_asking(referral: Referral) -> bool:
    return referral.welcomed_at is not None and not referral.ended


def fire_participation_question(
    rule: Rule,
    referral: Referral,
    community: Community | None,
    referrer: Recipient | None,
    weeks: int,
    recipient: str,
    now: datetime,
    thresholds: Thresholds,
) -> Fired:
    """The question (`participation_followup`) or its one reminder (`participation_reminder`);
    each sets the next step's timer: the reminder, then word to the guides. An answer
    cancels them."""
    if not _still_asking(referral):
        return Fired()
    if rule is Rule.participation_followup:
        step, wait = Rule.participation_reminder, thresholds.participation_reminder_after
    else:
        step, wait = Rule.participation_unanswered, thresholds.participation_unanswered_after
    subject = participation_subject(referral.referral_id, weeks)
    question = _question(rule, referral, community, referrer, weeks, recipient, now)
    return Fired([question], then=[Timer(step, subject, now + wait, referral.referral_id)])


def fire_participation_unanswered(
    referral: Referral, community: Community | None, directory: Sequence[Recipient], weeks: int, recipient: str
) -> Fired:
    """Nobody answered the question or its reminder: the guides follow up by hand."""
    if not _still_asking(referral):
        return Fired()
    context = referral_context(referral, community) | {
        "weeks": weeks,
        "welcomed_at": referral.welcomed_at,
        "asked_name": asked_name(referral, community, directory, recipient),
    }
    rid, subject = referral.referral_id, participation_subject(referral.referral_id, weeks)
    guides = [person for person in directory if person.role == "guide"]
    return Fired([Notify(Rule.participation_unanswered, guide.actor_id, subject, rid, context) for guide in guides])


def asked_name(referral: Referral, community: Community | None, directory: Sequence[Recipient], recipient: str) -> str:
    """Who was asked, as the guides know them: the community, or the referrer by name."""
    if recipient == CONTACT:
        return community.name if community else "fællesskabet"
    return referrer_name(referral, directory)
