"""Applying referrals-context events to the store through the domain rules.

One code path for every way a fact enters the service: the HTTP API (which stages the event
in the outbox, then applies it), ingestion from municipal systems (`POST /v1/events`) and the
demo seeder. Every function runs inside the caller's transaction and raises a DomainError
(→ a 4xx answer, or a `rejected` ingestion result) when the fact breaks a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.referrals import domain
from services.referrals.crypto import CitizenVault
from services.referrals.store import (
    Bridge,
    Citizen,
    Community,
    Outreach,
    Referral,
    Referrer,
    StaleReferral,
    TimelineEntry,
    save_state,
)
from shared.errors import Conflict, DomainError, Invalid, NotFound
from shared.events import Envelope, Event
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenBridged,
    CitizenErased,
    CitizenRegistered,
    OutreachRecorded,
    ReadinessRecorded,
    ReferralCreated,
    ReferrerActivated,
)


class Gone(DomainError):
    status = 410


@dataclass(frozen=True)
class Consent:
    purpose: str
    date: datetime
    recorded_by: str


def get_referrer(session: Session, actor_id: str, field: str = "referrer_id") -> Referrer:
    referrer = session.get(Referrer, actor_id)
    if referrer is None:
        raise Invalid(
            f"{field}: referrer {actor_id!r} is not known; activate them first (POST /v1/referrers)", field=field
        )
    return referrer


def get_citizen(session: Session, citizen_ref: str, *, field: str = "citizen_ref") -> Citizen:
    citizen = session.get(Citizen, citizen_ref)
    if citizen is None:
        raise NotFound(f"citizen {citizen_ref!r} is not registered", field=field)
    if citizen.erased_at is not None:
        raise Gone(f"citizen {citizen_ref!r} has been erased", field=field)
    return citizen


def get_referral(session: Session, referral_id: str) -> Referral:
    referral = session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound(f"referral {referral_id!r} does not exist")
    return referral


def _activator(session: Session, actor_id: str) -> str | None:
    referrer = session.get(Referrer, actor_id)
    return referrer.activated_by if referrer is not None else None


class Applier:
    def __init__(self, vault: CitizenVault) -> None:
        self.vault = vault
        self._handlers: dict[type[Event], Callable[[Session, Envelope, Any], None]] = {
            ReferrerActivated: self.activate_referrer,
            ReadinessRecorded: self.record_readiness,
            CitizenRegistered: self._registered_elsewhere,
            ReferralCreated: self._created_elsewhere,
            CitizenBridged: self.bridge,
            OutreachRecorded: self.record_outreach,
            CitizenErased: self._erased_elsewhere,
        }

    def apply(self, session: Session, envelope: Envelope, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(session, envelope, event)
        elif type(event) in domain.EVENT_OF_ACTION.values():
            self.move(session, envelope, event)
        else:
            raise ValueError(f"type: {envelope.type} cannot be applied by the referrals service")

    # ------------------------------------------------------------------ referrers

    def activate_referrer(self, session: Session, envelope: Envelope, event: ReferrerActivated) -> None:
        domain.check_sector(event.sector)
        at = envelope.time
        parent_of = lambda actor: _activator(session, actor)  # noqa: E731
        if event.activated_by and domain.creates_cycle(event.actor_id, event.activated_by, parent_of):
            raise Invalid(
                f"activated_by: {event.activated_by!r} was (indirectly) activated by {event.actor_id!r}; "
                "the cascade cannot loop",
                field="activated_by",
            )
        referrer = session.get(Referrer, event.actor_id)
        existing = domain.Activation(referrer.activated_by, referrer.activated_at) if referrer is not None else None
        edge = domain.first_activation(existing, event.actor_id, event.activated_by, at)
        if referrer is None:
            referrer = Referrer(actor_id=event.actor_id, role=event.role, languages=[])
            session.add(referrer)
        referrer.activated_by, referrer.activated_at = edge.activated_by, edge.activated_at
        # Directory data: a later activation may complete or correct it, never erase it.
        for name in ("role", "name", "sector", "organization", "area", "citizen_ref"):
            value = getattr(event, name)
            if value is not None:
                setattr(referrer, name, value)
        if event.languages:
            referrer.languages = list(event.languages)
        referrer.offers_accompaniment = event.offers_accompaniment or bool(referrer.offers_accompaniment)
        if event.contact is not None:
            referrer.contact_email = event.contact.email or referrer.contact_email
            referrer.contact_phone = event.contact.phone or referrer.contact_phone
        session.flush()

    def record_readiness(self, session: Session, envelope: Envelope, event: ReadinessRecorded) -> None:
        referrer = get_referrer(session, event.actor_id, field="actor_id")
        if referrer.readiness_at is not None and envelope.time < referrer.readiness_at:
            return  # an older, back-dated level does not overwrite a newer one
        referrer.readiness, referrer.readiness_at = event.level, envelope.time

    def record_outreach(self, session: Session, envelope: Envelope, event: OutreachRecorded) -> None:
        get_referrer(session, event.actor_id, field="actor_id")
        session.add(
            Outreach(
                event_id=envelope.id,
                actor_id=event.actor_id,
                kind=event.kind,
                count=event.count,
                area=event.area,
                time=envelope.time,
            )
        )

    # ------------------------------------------------------------------ citizens

    def register_citizen(
        self,
        session: Session,
        envelope: Envelope,
        event: CitizenRegistered,
        *,
        consent: Consent | None,
        registered_by: str,
        contact: dict[str, str | None] | None = None,
        languages: list[str] | None = None,
    ) -> Citizen:
        domain.check_consent(
            consent is not None, age_band=event.age_band, area=event.area, target_groups=event.target_groups
        )
        if session.get(Citizen, event.citizen_ref) is not None:
            raise Conflict(f"citizen {event.citizen_ref!r} is already registered")
        citizen = Citizen(
            citizen_ref=event.citizen_ref,
            age_band=event.age_band,
            area=event.area,
            target_groups=list(event.target_groups),
            languages=list(languages or []) if consent else [],
            consent_purpose=consent.purpose if consent else None,
            consent_date=consent.date if consent else None,
            consent_recorded_by=consent.recorded_by if consent else None,
            registered_by=registered_by,
            registered_at=envelope.time,
        )
        if contact and any(contact.values()):
            sealed = self.vault.seal(event.citizen_ref, contact)
            citizen.wrapped_key, citizen.contact_ciphertext = sealed.wrapped_key, sealed.ciphertext
        session.add(citizen)
        session.flush()
        return citizen

    def _registered_elsewhere(self, session: Session, envelope: Envelope, event: CitizenRegistered) -> None:
        # A municipal system that sends attributes states that it holds the citizen's consent.
        has_attributes = bool(event.age_band or event.area or event.target_groups)
        consent = (
            Consent(purpose=f"recorded by {envelope.source}", date=envelope.time, recorded_by=envelope.source)
            if has_attributes
            else None
        )
        self.register_citizen(session, envelope, event, consent=consent, registered_by=envelope.source)

    def erase_citizen(self, session: Session, envelope: Envelope, event: CitizenErased) -> None:
        citizen = get_citizen(session, event.citizen_ref)
        # Crypto-shredding: without the wrapped key the ciphertext (here and in every backup)
        # is noise. The consent attributes go too; the pseudonymous referrals stay for statistics.
        citizen.wrapped_key = None
        citizen.age_band = citizen.area = None
        citizen.target_groups, citizen.languages = [], []
        citizen.erased_at = envelope.time

    def _erased_elsewhere(self, session: Session, envelope: Envelope, event: CitizenErased) -> None:
        self.erase_citizen(session, envelope, event)

    # ------------------------------------------------------------------ referrals

    def create_referral(
        self,
        session: Session,
        envelope: Envelope,
        event: ReferralCreated,
        *,
        override_full: bool,
        note: str | None = None,
    ) -> Referral:
        if session.get(Referral, event.referral_id) is not None:
            raise Conflict(f"referral {event.referral_id!r} already exists")
        get_citizen(session, event.citizen_ref)
        get_referrer(session, event.referrer_id)
        community = session.get(Community, event.community_id)
        domain.check_community_open(
            event.community_id,
            known=community is not None,
            archived=bool(community and community.archived),
            capacity_status=community.capacity_status if community else None,
            override_full=override_full,
        )
        referral = Referral(
            referral_id=event.referral_id,
            citizen_ref=event.citizen_ref,
            community_id=event.community_id,
            referrer_id=event.referrer_id,
            needs_accompaniment=event.needs_accompaniment,
            special_considerations=event.special_considerations,
            channel=event.channel,
            note=note,
            override_full=override_full,
            status=domain.Status.requested.value,
            version=1,
            participation={},
            created_at=envelope.time,
            updated_at=envelope.time,
        )
        session.add(referral)
        session.flush()
        self._timeline(session, envelope, event, referral.referral_id, domain.Status.requested)
        return referral

    def _created_elsewhere(self, session: Session, envelope: Envelope, event: ReferralCreated) -> None:
        # An ingested referral already happened: today's capacity does not undo it.
        self.create_referral(session, envelope, event, override_full=True)

    def move(self, session: Session, envelope: Envelope, event: Event, referral: Referral | None = None) -> Referral:
        """A lifecycle transition, written with optimistic locking."""
        referral_id: str = getattr(event, "referral_id")  # noqa: B009 - every transition event has it
        referral = referral or get_referral(session, referral_id)
        if isinstance(event, AccompanimentArranged | CitizenAccompanied):
            get_referrer(session, event.companion_id, field="companion_id")
        state = referral.state()
        new_state = domain.transition(state, event, envelope.time)
        try:
            save_state(session, referral, new_state)
        except StaleReferral:
            current = get_referral(session, referral_id).state()
            raise Conflict(
                "the referral was changed by someone else at the same moment; reload it and try again",
                status=current.status.value,
                allowed=[a.value for a in domain.allowed_actions_for(current)],
            ) from None
        self._timeline(session, envelope, event, referral_id, new_state.status)
        return get_referral(session, referral_id)

    def bridge(self, session: Session, envelope: Envelope, event: CitizenBridged) -> None:
        get_citizen(session, event.citizen_ref)
        track = session.get(Community, event.from_community_id)
        if track is None or track.kind != "practice_track":
            raise Invalid(
                f"from_community_id: {event.from_community_id!r} is not a practice track known to the referrals "
                "service; a citizen is bridged from a practice track into a lasting community",
                field="from_community_id",
            )
        target = session.get(Referral, event.to_referral_id)
        if target is None or target.citizen_ref != event.citizen_ref:
            raise Invalid(
                f"to_referral_id: {event.to_referral_id!r} is not a referral of citizen {event.citizen_ref!r}",
                field="to_referral_id",
            )
        if target.community_id == event.from_community_id:
            raise Invalid("to_referral_id: the bridge must lead out of the practice track", field="to_referral_id")
        from_referrals = session.query(Referral).filter_by(
            citizen_ref=event.citizen_ref, community_id=event.from_community_id
        )
        if from_referrals.first() is None:
            raise Invalid(
                f"from_community_id: citizen {event.citizen_ref!r} was never referred to {event.from_community_id!r}",
                field="from_community_id",
            )
        if session.query(Bridge).filter_by(to_referral_id=event.to_referral_id).first() is not None:
            raise Conflict(f"referral {event.to_referral_id!r} is already recorded as a bridge")
        session.add(
            Bridge(
                event_id=envelope.id,
                citizen_ref=event.citizen_ref,
                from_community_id=event.from_community_id,
                to_referral_id=event.to_referral_id,
                time=envelope.time,
            )
        )

    @staticmethod
    def _timeline(session: Session, envelope: Envelope, event: Event, referral_id: str, status: domain.Status) -> None:
        data = {k: v for k, v in event.model_dump(mode="json").items() if k != "referral_id"}
        session.add(
            TimelineEntry(
                referral_id=referral_id,
                event_id=envelope.id,
                event_type=type(event).__name__,
                source=envelope.source,
                time=envelope.time,
                status=status.value,
                data=data,
            )
        )
