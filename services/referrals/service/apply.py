"""Applying referrals-context events to the store through the domain rules.

One code path for every way a fact enters the service: the use cases (which stage the event
in the outbox, then apply it), ingestion from municipal systems (`POST /v1/events`) and the
demo seeder. Every applier runs inside the caller's unit of work and raises a DomainError
(→ a 4xx answer, or a `rejected` ingestion result) when the fact breaks a rule. Rows are
found through `Seen` and added pending, so a batch is written in one flush.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from services.referrals import cascade
from services.referrals.attributes import CitizenAttributes
from services.referrals.cascade import Readiness
from services.referrals.crypto import CitizenKey, CitizenVault, Unreadable
from services.referrals.service import erasure, transitions
from services.referrals.service.batch import Seen, get_referrer, prefetch
from services.referrals.service.bulk import Bulk, append, new_row, table_of
from services.referrals.service.progress import Progress
from services.referrals.service.transitions import bridge
from services.referrals.tables import Citizen, Outreach, Referral, Referrer
from shared.errors import Conflict, Invalid
from shared.events import Envelope, Event
from shared.events.referrals import (
    CitizenAccompanied,
    CitizenBridged,
    CitizenErased,
    CitizenRegistered,
    LonelinessMeasured,
    OutreachRecorded,
    ReadinessRecorded,
    ReferralCreated,
    ReferrerActivated,
    TrainingRecorded,
)
from shared.runtime import Runtime
from shared.screening import stated_consent


@dataclass(frozen=True)
class Consent:
    purpose: str | None  # None: a municipal system's statement, shown as "recorded by <source>"
    date: datetime
    recorded_by: str


OUTREACH = table_of(Outreach)
KEYS = "vejviser.citizen_keys"  # session.info: the keys of the citizens a run registers
Applier = Callable[[Session, Envelope, Event], None]
E = TypeVar("E", bound=Event)


def handler_for(kind: type[E], applier: Callable[[Session, Envelope, E], object]) -> tuple[type[Event], Applier]:
    def run(session: Session, envelope: Envelope, event: Event) -> None:
        if not isinstance(event, kind):
            raise ValueError(f"type: {envelope.type} is not a {kind.__name__}")
        applier(session, envelope, event)

    return kind, run


class Appliers:
    """The event appliers, and `apply` for events that arrive whole (ingestion, demo)."""

    def __init__(self, vault: CitizenVault, runtime: Runtime) -> None:
        self.vault = vault
        self.progress = Progress(runtime)
        self._by_type: dict[type[Event], Applier] = dict(
            (
                handler_for(ReferrerActivated, self.activate_referrer),
                handler_for(ReadinessRecorded, self.record_readiness),
                handler_for(TrainingRecorded, self.progress.record_training),
                handler_for(LonelinessMeasured, self.progress.record_loneliness),
                handler_for(CitizenRegistered, self._registered_elsewhere),
                handler_for(ReferralCreated, self._created_elsewhere),
                handler_for(CitizenBridged, bridge),
                handler_for(OutreachRecorded, self.record_outreach),
                handler_for(CitizenErased, self.erase_citizen),
            )
        )

    def apply_all(self, session: Session, pairs: list[tuple[Envelope, Event]]) -> None:
        """A run of ingested events: the rows they name loaded at once, the keys of the
        citizens it registers fetched or made at once, then each applied."""
        prefetch(session, [envelope.data for envelope, _ in pairs])
        registered = [
            event.citizen_ref for _, event in pairs if isinstance(event, CitizenRegistered) and _attributed(event)
        ]
        session.info[KEYS] = self.vault.keys_to_seal(registered) if registered else {}
        try:
            with Bulk.of(session).run(session), session.no_autoflush:
                for envelope, event in pairs:
                    self._apply(session, envelope, event)
        finally:
            session.info.pop(KEYS, None)

    def apply(self, session: Session, envelope: Envelope, event: Event) -> None:
        with session.no_autoflush:
            self._apply(session, envelope, event)

    def _apply(self, session: Session, envelope: Envelope, event: Event) -> None:
        applier = self._by_type.get(type(event))
        if applier is not None:
            applier(session, envelope, event)
        else:
            self.move(session, envelope, event)  # raises ValueError for a type it does not know

    # ------------------------------------------------------------------ referrals

    def create_referral(
        self, session: Session, envelope: Envelope, event: ReferralCreated, details: transitions.Details
    ) -> Referral:
        referral = transitions.create_referral(session, envelope, event, details)
        self.progress.reach(session, event.referrer_id, Readiness.referring, envelope.time)
        return referral

    def move(self, session: Session, envelope: Envelope, event: Event, referral: Referral | None = None) -> Referral:
        moved = transitions.move(session, envelope, event, referral)
        if isinstance(event, CitizenAccompanied):
            self.progress.reach(session, event.companion_id, Readiness.accompanying, envelope.time)
        return moved

    def _created_elsewhere(self, session: Session, envelope: Envelope, event: ReferralCreated) -> None:
        # An ingested referral already happened: today's capacity does not undo it.
        self.create_referral(session, envelope, event, transitions.Details(override_full=True))

    # ------------------------------------------------------------------ referrers

    def activate_referrer(self, session: Session, envelope: Envelope, event: ReferrerActivated) -> None:
        seen = Seen.of(session)
        sector, area = cascade.sector_code(event.sector, exact=True), cascade.area_code(event.area, exact=True)

        def parent_of(actor: str) -> str | None:
            found = seen.get(Referrer, actor)
            return found.activated_by if found is not None else None

        if event.activated_by and cascade.creates_cycle(event.actor_id, event.activated_by, parent_of):
            raise Invalid(
                f"activated_by: {event.activated_by!r} was (indirectly) activated by {event.actor_id!r}; "
                "the cascade cannot loop",
                field="activated_by",
            )
        referrer = seen.get(Referrer, event.actor_id)
        existing = cascade.Activation(referrer.activated_by, referrer.activated_at) if referrer else None
        edge = cascade.first_activation(existing, event.actor_id, event.activated_by, envelope.time)
        if referrer is None:
            referrer = new_row(Referrer, actor_id=event.actor_id, role=event.role, languages=[])
            referrer.offers_accompaniment = False
            seen.add(referrer)
        referrer.activated_by, referrer.activated_at = edge.activated_by, edge.activated_at
        # Directory data: a later activation may complete or correct it, never erase it.
        given = {"role": event.role, "name": event.name, "sector": sector, "organization": event.organization}
        for name, value in {**given, "area": area, "citizen_ref": event.citizen_ref}.items():
            if value is not None:
                setattr(referrer, name, value)
        if event.languages:
            referrer.languages = list(event.languages)
        referrer.offers_accompaniment = event.offers_accompaniment or bool(referrer.offers_accompaniment)
        if event.contact is not None:
            referrer.contact_email = event.contact.email or referrer.contact_email
            referrer.contact_phone = event.contact.phone or referrer.contact_phone

    def record_readiness(self, session: Session, envelope: Envelope, event: ReadinessRecorded) -> None:
        referrer = get_referrer(session, event.actor_id, field="actor_id")
        if referrer.readiness_at is not None and envelope.time < referrer.readiness_at:
            return  # an older, back-dated level does not overwrite a newer one
        referrer.readiness, referrer.readiness_at = event.level, envelope.time

    def record_outreach(self, session: Session, envelope: Envelope, event: OutreachRecorded) -> None:
        get_referrer(session, event.actor_id, field="actor_id")
        area = cascade.area_code(event.area, exact=True)
        row = {"event_id": envelope.id, "actor_id": event.actor_id, "kind": event.kind, "count": event.count}
        append(session, OUTREACH, {**row, "area": area, "time": envelope.time})

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
        cascade.check_consent(
            consent is not None, age_band=event.age_band, area=event.area, target_groups=event.target_groups
        )
        area = cascade.area_code(event.area, exact=True)
        groups = cascade.target_group_codes(event.target_groups, exact=True)
        seen = Seen.of(session)
        if seen.get(Citizen, event.citizen_ref) is not None:
            raise Conflict(f"citizen {event.citizen_ref!r} is already registered")
        citizen = new_row(
            Citizen,
            citizen_ref=event.citizen_ref,
            contact_ciphertext=None,
            attributes_ciphertext=None,
            consent_purpose_ciphertext=None,
            registered_by=registered_by,
            registered_at=envelope.time,
        )
        has_contact = bool(contact and any(contact.values()))
        if has_contact or consent is not None:
            # A key only for a citizen with something to seal: one registered without
            # consent or contact data makes no round trip to the key store.
            key = self._key_to_seal(session, event.citizen_ref)
            if has_contact and contact is not None:
                citizen.contact_ciphertext = key.seal_contact(contact)
            if consent is not None:
                attributes = CitizenAttributes(
                    consent_date=consent.date,
                    consent_recorded_by=consent.recorded_by,
                    age_band=event.age_band,
                    area=area,
                    target_groups=tuple(groups),
                    languages=tuple(languages or ()),
                )
                citizen.attributes_ciphertext = key.seal_attributes(attributes)
                if consent.purpose:
                    citizen.consent_purpose_ciphertext = key.seal_consent_purpose(consent.purpose)
        seen.add(citizen)
        return citizen

    def _key_to_seal(self, session: Session, citizen_ref: str) -> CitizenKey:
        key = session.info.get(KEYS, {}).get(citizen_ref)  # fetched for the run (apply_all)
        if key is not None:
            return key
        try:
            return self.vault.key_to_seal(citizen_ref)
        except Unreadable as exc:
            raise Conflict(f"citizen {citizen_ref!r} was erased; a citizen_ref is never used again") from exc

    def _registered_elsewhere(self, session: Session, envelope: Envelope, event: CitizenRegistered) -> None:
        # A municipal system states the citizen's consent as `consentdate` (shared/screening.py
        # refuses attributes without it), given to the purpose it holds consent for.
        has_attributes = _attributed(event)
        given = stated_consent(envelope) or envelope.time
        consent = Consent(purpose=None, date=given, recorded_by=envelope.source) if has_attributes else None
        self.register_citizen(session, envelope, event, consent=consent, registered_by=envelope.source)

    def erase_citizen(self, session: Session, envelope: Envelope, event: CitizenErased) -> int:
        """The erasure cascade (service/erasure.py); returns how many open referrals it cancelled."""
        return erasure.erase_citizen(session, envelope, event, self.vault, self.progress.stage)


def _attributed(event: CitizenRegistered) -> bool:
    return bool(event.age_band or event.area or event.target_groups)
