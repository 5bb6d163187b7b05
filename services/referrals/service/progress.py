"""Appliers of what a referrer and a citizen get further by: readiness that moves by itself
(a training, a first referral, a first accompaniment), trainings, and the loneliness measure.

A readiness move is staged in the unit of work of the event that caused it, at that event's
time, on every path (the API, `POST /v1/events`, the demo): the rule lives here once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.referrals import cascade, followup, store
from services.referrals.cascade import Readiness
from services.referrals.service.batch import Seen, get_referral, get_referrer
from services.referrals.service.bulk import Bulk, append, table_of
from services.referrals.service.transitions import note_on_timeline
from services.referrals.tables import Loneliness, Referrer, Training
from shared.errors import Invalid
from shared.events import Envelope, Event
from shared.events.referrals import LonelinessMeasured, ReadinessRecorded, TrainingRecorded
from shared.principal import Role
from shared.profile import profile
from shared.runtime import Runtime

TRAINING = table_of(Training)
LONELINESS = table_of(Loneliness)


class Progress:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def stage(self, session: Session, event: Event, at: datetime) -> Envelope:
        """Stage an event this service derives, in the caller's transaction (the outbox)."""
        return self.runtime.joining(session).stage(event, time=at)[0]

    def reach(self, session: Session, actor_id: str, level: Readiness, at: datetime) -> None:
        """Move a referrer up to `level` when they are below it; never down, once only."""
        referrer = Seen.of(session).get(Referrer, actor_id)
        if referrer is None or referrer.role == Role.guide.value:  # guides train, they are not on the ladder
            return
        if not cascade.readiness_reached(referrer.readiness, level):
            return
        self.stage(session, ReadinessRecorded(actor_id=actor_id, level=level.value), at)
        # A back-dated cause still lifts the level; the level's time never goes backwards.
        previous = referrer.readiness_at
        referrer.readiness, referrer.readiness_at = level.value, max(previous, at) if previous else at

    def record_training(self, session: Session, envelope: Envelope, event: TrainingRecorded) -> None:
        get_referrer(session, event.actor_id, field="actor_id")
        topic = profile().training_topic.check(event.topic, "topic", exact=True)
        row = {"event_id": envelope.id, "actor_id": event.actor_id, "trained_on": event.trained_on, "topic": topic}
        append(session, TRAINING, row)
        self.reach(session, event.actor_id, Readiness.trained, envelope.time)

    def record_loneliness(self, session: Session, envelope: Envelope, event: LonelinessMeasured) -> None:
        followup.check_loneliness_enabled()
        # The check below reads the stored measures, those of this run included.
        Bulk.of(session).write(session)
        session.flush()
        referral = get_referral(session, event.referral_id)
        if event.citizen_ref is not None and event.citizen_ref != referral.citizen_ref:
            # It ends the event's subject: the wrong citizen would leave the score on the bus.
            raise Invalid("data.citizen_ref: not the citizen of this referral", field="citizen_ref")
        recorded = store.loneliness_moments(session, [referral.referral_id]).get(referral.referral_id, [])
        followup.check_loneliness_moment(event.moment, recorded, welcomed=referral.welcomed_at is not None)
        row = {"referral_id": referral.referral_id, "moment": event.moment, "score": event.score}
        append(session, LONELINESS, {**row, "time": envelope.time})
        # The timeline shows that it was asked, not the score: companions and communities read it.
        note_on_timeline(session, envelope, event, referral, {"moment": event.moment})
