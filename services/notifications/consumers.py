"""Event handlers: keep the local directory current and let the rules react.

Each handler runs inside the inbox transaction (shared.inbox), so its effect and the record
that the event was processed commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.notifications import domain, store
from services.notifications.domain import REFERRAL_TIMERS, Rule
from services.notifications.engine import Engine
from shared.events import Envelope, Event
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.inbox import Handler


class Consumers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def now(self) -> datetime:
        return self.engine.clock.now()

    # ------------------------------------------------------------------ referrals stream

    def referrer_activated(self, session: Session, envelope: Envelope, event: ref.ReferrerActivated) -> None:
        row = session.get(store.RecipientRow, event.actor_id)
        contact = event.contact
        if row is None:
            row = store.RecipientRow(actor_id=event.actor_id, activated_at=envelope.time)
            session.add(row)
        elif row.activated_at is None or envelope.time < row.activated_at:
            row.activated_at = envelope.time  # only the first activation counts
        row.role, row.area, row.name = event.role, event.area, event.name
        row.offers_accompaniment = event.offers_accompaniment
        row.email = contact.email if contact else None
        row.phone = contact.phone if contact else None
        session.flush()
        now = self.now
        recipient = row.fact()
        dormant = domain.dormant_timer_from(recipient, now, self.engine.th)
        if dormant is not None:
            self.engine.schedule(session, dormant, now)
        self.engine.schedule(session, domain.digest_timer(recipient, now, self.engine.th), now)

    def referral_created(self, session: Session, envelope: Envelope, event: ref.ReferralCreated) -> None:
        if session.get(store.ReferralRow, event.referral_id) is not None:
            return  # the same referral under another event id: already planned
        session.add(
            store.ReferralRow(
                referral_id=event.referral_id,
                referrer_id=event.referrer_id,
                community_id=event.community_id,
                created_at=envelope.time,
                needs_accompaniment=event.needs_accompaniment,
                special_considerations=event.special_considerations,
            )
        )
        session.flush()
        now = self.now
        referrer = session.get(store.RecipientRow, event.referrer_id)
        if referrer is not None:
            if referrer.last_referral_at is None or envelope.time > referrer.last_referral_at:
                referrer.last_referral_at = envelope.time
            dormant = domain.dormant_timer(referrer.fact(), self.engine.th)
            if dormant is not None:
                self.engine.schedule(session, dormant, now, keep_later=True)
        referral = session.get(store.ReferralRow, event.referral_id)
        assert referral is not None
        for timer in domain.timers_for_referral(referral.fact(), now, self.engine.th):
            self.engine.schedule(session, timer, now)
        # Tell the community now rather than on the next tick of the timer loop.
        self.engine.fire_now_if_due(session, Rule.welcome_contact, event.referral_id, now)

    def _referral(self, session: Session, referral_id: str) -> store.ReferralRow | None:
        # An event about a referral we never saw (created before a purge) changes nothing here.
        return session.get(store.ReferralRow, referral_id)

    def accompaniment_arranged(self, session: Session, envelope: Envelope, event: ref.AccompanimentArranged) -> None:
        if (row := self._referral(session, event.referral_id)) is not None:
            row.accompaniment_arranged_at = row.accompaniment_arranged_at or envelope.time
            store.cancel_referral_timers(session, event.referral_id, [Rule.accompaniment_needed], self.now)

    def citizen_accompanied(self, session: Session, envelope: Envelope, event: ref.CitizenAccompanied) -> None:
        if (row := self._referral(session, event.referral_id)) is not None:
            row.accompanied_at = row.accompanied_at or envelope.time
            store.cancel_referral_timers(session, event.referral_id, [Rule.accompaniment_needed], self.now)

    def welcome_confirmed(self, session: Session, envelope: Envelope, event: ref.WelcomeConfirmed) -> None:
        row = self._referral(session, event.referral_id)
        if row is None:
            return
        row.welcomed_at = row.welcomed_at or envelope.time
        now = self.now
        store.cancel_referral_timers(session, event.referral_id, REFERRAL_TIMERS, now)
        community = store.community(session, row.community_id)
        for n in domain.on_welcome_confirmed(row.fact(), community, envelope.time, now, self.engine.th):
            self.engine.notify(session, n, now)

    def referral_rejected(self, session: Session, envelope: Envelope, event: ref.ReferralRejected) -> None:
        if (row := self._referral(session, event.referral_id)) is not None:
            row.rejected_at, row.rejection_reason = row.rejected_at or envelope.time, event.reason
            store.cancel_referral_timers(session, event.referral_id, REFERRAL_TIMERS, self.now)

    def referral_cancelled(self, session: Session, envelope: Envelope, event: ref.ReferralCancelled) -> None:
        if (row := self._referral(session, event.referral_id)) is not None:
            row.cancelled_at = row.cancelled_at or envelope.time
            store.cancel_referral_timers(session, event.referral_id, REFERRAL_TIMERS, self.now)

    # ------------------------------------------------------------------ catalogue stream

    def community_registered(self, session: Session, envelope: Envelope, event: cat.CommunityRegistered) -> None:
        row = session.get(store.CommunityRow, event.community_id)
        if row is None:
            row = store.CommunityRow(community_id=event.community_id, has_room=True, archived=False)
            session.add(row)
        row.name, row.area = event.name, event.area
        self._contact(row, event.contact)

    def community_updated(self, session: Session, envelope: Envelope, event: cat.CommunityUpdated) -> None:
        row = session.get(store.CommunityRow, event.community_id)
        if row is None:
            if event.name is None:
                return
            row = store.CommunityRow(community_id=event.community_id, name=event.name, has_room=True, archived=False)
            session.add(row)
        if event.name is not None:
            row.name = event.name
        if event.area is not None:
            row.area = event.area
        if event.contact is not None:
            self._contact(row, event.contact)

    @staticmethod
    def _contact(row: store.CommunityRow, contact: cat.WelcomeContact | None) -> None:
        row.contact_name = contact.name if contact else None
        row.contact_email = contact.email if contact else None
        row.contact_phone = contact.phone if contact else None

    def capacity_changed(self, session: Session, envelope: Envelope, event: cat.CommunityCapacityChanged) -> None:
        if (row := session.get(store.CommunityRow, event.community_id)) is not None:
            row.has_room = event.status == "open" and event.available > 0

    def community_archived(self, session: Session, envelope: Envelope, event: cat.CommunityArchived) -> None:
        if (row := session.get(store.CommunityRow, event.community_id)) is not None:
            row.archived = True

    # ------------------------------------------------------------------ registration

    def referral_handlers(self) -> Mapping[type[Event], Handler]:
        return _handlers(
            {
                ref.ReferrerActivated: self.referrer_activated,
                ref.ReferralCreated: self.referral_created,
                ref.AccompanimentArranged: self.accompaniment_arranged,
                ref.CitizenAccompanied: self.citizen_accompanied,
                ref.WelcomeConfirmed: self.welcome_confirmed,
                ref.ReferralRejected: self.referral_rejected,
                ref.ReferralCancelled: self.referral_cancelled,
            }
        )

    def catalogue_handlers(self) -> Mapping[type[Event], Handler]:
        return _handlers(
            {
                cat.CommunityRegistered: self.community_registered,
                cat.CommunityUpdated: self.community_updated,
                cat.CommunityCapacityChanged: self.capacity_changed,
                cat.CommunityArchived: self.community_archived,
            }
        )


def _handlers(mapping: Mapping[type[Event], Callable[[Session, Envelope, Any], None]]) -> Mapping[type[Event], Handler]:
    # Each handler takes its own event class; the inbox dispatches by that class.
    return dict(mapping)
