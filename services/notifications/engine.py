"""The service layer: applies the pure rules to the stored facts inside one transaction.

Exactly-once effect, and why sending happens outside the deciding transaction:
a decision (a `nudge` row with a unique dedup key per rule, subject and recipient, plus one
`pending` delivery row per channel) commits in the same transaction as the inbox record of
the event or the firing of the timer that caused it. A redelivered or replayed event, or a
timer fired twice, meets the unique key and decides nothing new. The delivery worker sends
after commit and then marks the row sent. Sending inside the transaction would be worse
both ways: a rollback after a successful SMTP call would re-send on every retry, and a slow
mail server would hold the consumer's transaction open. The remaining window (a crash after
the send and before the mark) re-sends at most once per lease, with the same Message-ID /
X-Vejviser-Delivery id so a receiver can drop the copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.notifications import domain, store
from services.notifications.clock import Clock
from services.notifications.domain import Fired, Notify, Rule, Thresholds
from services.notifications.messages import Messages
from services.notifications.settings import NotificationSettings
from shared.events import Event
from shared.events.notifications import NudgeSent
from shared.ids import new_id
from shared.welcome import welcome_url

log = logging.getLogger("vejviser.notifications.engine")

Stage = Callable[[Session, Event], None]


def thresholds_from(settings: NotificationSettings) -> Thresholds:
    return Thresholds(
        accompaniment_after=timedelta(hours=settings.accompaniment_after_hours),
        welcome_followup_after=timedelta(days=settings.welcome_followup_days),
        welcome_escalation_after=timedelta(days=settings.welcome_escalation_days),
        historic_after=timedelta(days=settings.historic_after_days),
        dormant_after=timedelta(days=settings.dormant_after_days),
        community_wait=timedelta(hours=settings.community_wait_hours),
        digest_weekday=settings.digest_weekday,
        digest_hour=settings.digest_hour,
    )


def default_preferences(settings: NotificationSettings) -> domain.Preferences:
    return domain.Preferences(
        channels=frozenset({"email"}),
        quiet_start=domain.parse_clock_time(settings.quiet_start) if settings.quiet_start else None,
        quiet_end=domain.parse_clock_time(settings.quiet_end) if settings.quiet_end else None,
        daily_cap=settings.daily_cap,
    )


class Engine:
    def __init__(self, settings: NotificationSettings, clock: Clock, stage: Stage) -> None:
        self.settings = settings
        self.clock = clock
        self.stage = stage
        self.th = thresholds_from(settings)
        self.defaults = default_preferences(settings)
        self.messages = Messages()

    # ------------------------------------------------------------------ deciding messages

    def notify(self, session: Session, n: Notify, now: datetime) -> str | None:
        """Record a message and its pending deliveries; the id, or None if nothing new."""
        if store.nudge_exists(session, n.dedup_key):
            return None
        prefs = store.preferences(session, n.recipient_id, self.defaults)
        email, phone = self._addresses(session, n.recipient_id)
        day_start = domain.local(now).replace(hour=0, minute=0, second=0, microsecond=0)
        planned = domain.route(
            n,
            prefs,
            email=email,
            phone=phone,
            personal_sent_today=store.personal_deliveries_since(session, n.recipient_id, day_start),
            sms_enabled=self.settings.sms_enabled,
            now=now,
        )
        if planned is None:
            log.info("recipient opted out", extra={"rule": str(n.rule), "recipient_id": n.recipient_id})
            return None
        rendered = self.messages.render(n)
        nudge_id = new_id()
        nudge = store.NudgeRow(
            id=nudge_id,
            dedup_key=n.dedup_key,
            rule=str(n.rule),
            subject_id=n.subject_id,
            recipient_id=n.recipient_id,
            referral_id=n.referral_id,
            title=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            status="pending" if planned else "sent",
            created_at=now,
            sent_at=None if planned else now,
        )
        try:
            with session.begin_nested():
                session.add(nudge)
                session.flush()
        except IntegrityError:  # a concurrent decision won the dedup key
            return None
        for p in planned:
            session.add(
                store.DeliveryRow(
                    id=new_id(),
                    nudge_id=nudge_id,
                    channel=p.channel,
                    address=p.address,
                    status="pending",
                    attempts=0,
                    next_attempt_at=p.not_before,
                    created_at=now,
                )
            )
        for hook in store.webhooks_for(session, n.rule):
            session.add(
                store.DeliveryRow(
                    id=new_id(),
                    nudge_id=nudge_id,
                    channel="webhook",
                    address=hook.url,
                    webhook_id=hook.id,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        if not planned:  # the inbox is the only channel: it is delivered by being written
            self.stage(
                session,
                NudgeSent(
                    nudge_id=nudge_id,
                    rule=str(n.rule),
                    recipient_id=n.recipient_id,
                    channel="inbox",
                    referral_id=n.referral_id,
                ),
            )
        return nudge_id

    def _addresses(self, session: Session, recipient_id: str) -> tuple[str | None, str | None]:
        if recipient_id.startswith("community:"):
            community = store.community(session, recipient_id.removeprefix("community:"))
            return (community.contact_email, community.contact_phone) if community else (None, None)
        row = session.get(store.RecipientRow, recipient_id)
        return (row.email, row.phone) if row else (None, None)

    # ------------------------------------------------------------------ timers

    def fire(self, session: Session, timer: store.TimerRow, now: datetime) -> None:
        fired = self._evaluate(session, timer, now)
        for n in fired.notify:
            self.notify(session, n, now)
        if fired.again_at is not None:
            timer.due_at = fired.again_at
        else:
            timer.status, timer.settled_at = "fired", now

    def fire_due(self, session: Session, now: datetime) -> int:
        count = 0
        for timer in store.due_timers(session, now):
            try:
                with session.begin_nested():
                    self.fire(session, timer, now)
                count += 1
            except Exception:
                # One broken timer must not stop the others; look at it again later.
                log.exception("timer failed", extra={"rule": timer.rule, "timer_id": timer.id})
                timer.due_at = now + timedelta(minutes=5)
        return count

    def _evaluate(self, session: Session, timer: store.TimerRow, now: datetime) -> Fired:
        rule = Rule(timer.rule)
        if rule in (Rule.dormant_referrer, Rule.weekly_digest):
            row = session.get(store.RecipientRow, timer.subject_id)
            if row is None:
                return Fired()
            recipient = row.fact()
            if rule is Rule.dormant_referrer:
                return domain.fire_dormant_referrer(
                    recipient, store.communities_in_area(session, recipient.area), now, self.th
                )
            referrals = store.referrals_of(session, recipient.actor_id)
            communities = store.communities_by_id(session, (r.community_id for r in referrals))
            return domain.fire_weekly_digest(recipient, referrals, communities, now, self.th)
        referral_row = session.get(store.ReferralRow, timer.referral_id or timer.subject_id)
        if referral_row is None:
            return Fired()
        referral = referral_row.fact()
        community = store.community(session, referral.community_id)
        if rule is Rule.welcome_contact:
            link = welcome_url(
                self.settings.referrals_public_url,
                self.settings.welcome_link_secret,
                referral.referral_id,
                referral.created_at,
            )
            return domain.fire_welcome_contact(referral, community, link, now, self.th)
        if rule is Rule.accompaniment_needed:
            return domain.fire_accompaniment_needed(referral, community, store.directory(session), now)
        if rule is Rule.welcome_followup:
            return domain.fire_welcome_followup(referral, community, now)
        if rule is Rule.welcome_escalation:
            return domain.fire_welcome_escalation(referral, community, store.directory(session), now)
        return Fired()

    def schedule(self, session: Session, timer: domain.Timer, now: datetime, *, keep_later: bool = False) -> None:
        store.schedule(session, timer, now, keep_later=keep_later)

    def fire_now_if_due(self, session: Session, rule: Rule, subject_id: str, now: datetime) -> None:
        """Fire one timer within the caller's transaction when it is already due (no tick wait)."""
        timer = store.timer(session, rule, subject_id)
        if timer is not None and timer.status == "scheduled" and timer.due_at <= now:
            self.fire(session, timer, now)
