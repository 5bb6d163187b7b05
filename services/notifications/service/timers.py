"""Durable timers firing: the timer loop's tick, and a timer fired at once when an event
makes it due (the welcome contact hears of a referral without waiting for the tick)."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.notifications import followup, rules, store
from services.notifications.domain import PARTICIPATION_RULES, Fired, Rule, weeks_of
from services.notifications.service import notify
from services.notifications.service.batch import Batch
from services.notifications.service.core import Notifications
from services.notifications.store import TimerRecord
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.notifications.timers")

PERSON_RULES = (Rule.dormant_referrer, Rule.weekly_digest)
RETRY_BROKEN_TIMER = timedelta(minutes=5)


def _evaluate(app: Notifications, batch: Batch, record: TimerRecord) -> Fired:
    rule, now, thresholds = Rule(record.rule), batch.now, app.thresholds
    if rule in PERSON_RULES:
        batch.recipients.load(batch.session, [record.subject_id])
        recipient = batch.recipients.get(record.subject_id)
        if recipient is None:
            return Fired()
        if rule is Rule.dormant_referrer:
            nearby = store.communities_in_area(batch.session, recipient.area)
            return rules.fire_dormant_referrer(recipient, nearby, now, thresholds)
        referrals = store.referrals_of(batch.session, recipient.actor_id)
        batch.communities.load(batch.session, [referral.community_id for referral in referrals])
        communities = {
            referral.community_id: community
            for referral in referrals
            if (community := batch.communities.get(referral.community_id))
        }
        return rules.fire_weekly_digest(recipient, referrals, communities, now, thresholds)
    referral_id = record.referral_id or record.subject_id
    batch.referrals.load(batch.session, [referral_id])
    referral = batch.referrals.get(referral_id)
    if referral is None:
        return Fired()
    batch.communities.load(batch.session, [referral.community_id])
    community = batch.communities.get(referral.community_id)
    if rule is Rule.welcome_contact:
        return rules.fire_welcome_contact(referral, community, now, thresholds)
    if rule is Rule.accompaniment_needed:
        return rules.fire_accompaniment_needed(referral, community, batch.directory(), now)
    if rule is Rule.welcome_followup:
        return rules.fire_welcome_followup(referral, community, now)
    if rule is Rule.welcome_escalation:
        return rules.fire_welcome_escalation(referral, community, batch.directory(), now)
    if rule in PARTICIPATION_RULES:
        return _participation(app, batch, record, rule)
    return Fired()


def _participation(app: Notifications, batch: Batch, record: TimerRecord, rule: Rule) -> Fired:
    """The follow-up question of the timer's week, its reminder, or word to the guides."""
    referral = batch.referrals.get(record.referral_id or "")
    if referral is None:
        return Fired()
    community = batch.communities.get(referral.community_id)
    weeks, asked, now = weeks_of(record.subject_id), app.settings.followup_recipient, batch.now
    if rule is Rule.participation_unanswered:
        return followup.fire_participation_unanswered(referral, community, batch.directory(), weeks, asked)
    batch.recipients.load(batch.session, [referral.referrer_id])
    referrer = batch.recipients.get(referral.referrer_id)
    return followup.fire_participation_question(rule, referral, community, referrer, weeks, asked, now, app.thresholds)


def fire(app: Notifications, batch: Batch, record: TimerRecord) -> None:
    fired = _evaluate(app, batch, record)
    batch.decided.extend(fired.notify)
    batch.settle(record, fired.again_at)
    for timer in fired.then:
        batch.schedule(timer)


def fire_now_if_due(app: Notifications, batch: Batch, rule: Rule, subject_id: str) -> None:
    """Fire one timer in the batch when it is already due (no wait for the loop's tick)."""
    record = batch.timer(rule, subject_id)
    if record is not None and record.status == "scheduled" and record.due_at <= batch.now:
        fire(app, batch, record)


def fire_due(app: Notifications, uow: UnitOfWork) -> int:
    """One tick of the timer loop: fire the timers due by now (locked against other replicas)."""
    now = uow.now()
    due = store.due_timers(uow.session, now)
    if not due:
        return 0
    batch = Batch(uow.session, now)
    people = [timer.subject_id for timer in due if Rule(timer.rule) in PERSON_RULES]
    referral_ids = [timer.referral_id or timer.subject_id for timer in due if Rule(timer.rule) not in PERSON_RULES]
    batch.load(referral_ids=referral_ids, actor_ids=people, timers=due)
    fired = 0
    for record in due:
        try:
            fire(app, batch, record)
            fired += 1
        except Exception:
            # One broken timer must not stop the others; look at it again later.
            log.exception("timer failed", extra={"rule": record.rule, "timer_id": record.id})
            record.due_at, record.changed = now + RETRY_BROKEN_TIMER, True
    notify.record(app, uow, batch)
    batch.save()
    return fired
