"""Use cases of citizens: registration with consent, the audited record and contact data,
erasure (crypto-shredding and its cascade: service/erasure.py) and the bridge out of a
practice track."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals import audit, cascade, store, visibility
from services.referrals.attributes import CitizenAttributes
from services.referrals.audit import AuditEntry, Read, Reader
from services.referrals.crypto import CitizenKey, CitizenVault, Unreadable, opened
from services.referrals.schemas import BridgeIn, CitizenIn
from services.referrals.service.apply import Appliers, Consent
from services.referrals.service.batch import Gone, get_citizen
from services.referrals.service.transitions import bridge
from services.referrals.tables import Citizen
from shared.clock import COPENHAGEN
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import Envelope
from shared.events.referrals import CitizenBridged, CitizenErased, CitizenRegistered
from shared.principal import Principal
from shared.profile import profile
from shared.runtime import Runtime
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.referrals.citizens")
ERASE_TRIES = 3  # a referral moved at the same moment makes the cascade start again


@dataclass(frozen=True)
class CitizenRecord:
    """A citizen's row with what is opened of it for the reader."""

    citizen: Citizen
    # The consent attributes opened; None without consent, or once the key is gone.
    attributes: CitizenAttributes | None = None
    consent_purpose: str | None = None
    # Their key was destroyed: erased, even where the row does not say so yet (a database
    # restored from a backup taken before the erasure).
    shredded: bool = False

    @property
    def erased(self) -> bool:
        return self.citizen.erased_at is not None or self.shredded


@dataclass(frozen=True)
class ErasureResult:
    envelope: Envelope  # of CitizenErased
    referrals_cancelled: int


class Citizens:
    def __init__(self, runtime: Runtime, appliers: Appliers, vault: CitizenVault) -> None:
        self.runtime, self.appliers, self.vault = runtime, appliers, vault

    def register(self, principal: Reader, body: CitizenIn) -> CitizenRecord:
        now = self.runtime.clock.now()
        consent = None
        if body.consent is not None:
            given = datetime.combine(body.consent.date, time(12), tzinfo=COPENHAGEN) if body.consent.date else now
            if given > now + timedelta(days=1):
                raise Invalid("consent.date: consent cannot be given in the future", field="consent.date")
            purpose = body.consent.purpose or profile().consent_purpose
            consent = Consent(purpose=purpose, date=given.astimezone(UTC), recorded_by=principal.actor_id)
        cascade.check_consent(
            consent is not None, age_band=body.age_band, area=body.area, target_groups=body.target_groups
        )
        if body.languages and consent is None:
            raise Invalid(
                "languages: stored only with recorded consent; add consent {purpose, date}", field="languages"
            )
        event = CitizenRegistered(
            # Random, not time-ordered (shared/ids.py): the reference must not tell when
            # the citizen was registered.
            citizen_ref=f"c-{uuid.uuid4()}",
            age_band=body.age_band,
            area=cascade.area_code(body.area),
            target_groups=cascade.target_group_codes(body.target_groups),
        )
        contact = body.contact.model_dump() if body.contact else None

        def work(uow: UnitOfWork) -> Citizen:
            citizen = self.appliers.register_citizen(
                uow.session,
                uow.stage(event)[0],
                event,
                consent=consent,
                registered_by=principal.actor_id,
                contact=contact,
                languages=body.languages,
            )
            self._audit(uow, principal, Read(citizen.citizen_ref, "record"))
            return citizen

        return self.opened(self.runtime.write(work))

    def opened(self, citizen: Citizen) -> CitizenRecord:
        """The record with its consent attributes and purpose opened (nothing opens once the
        key is gone)."""
        key = self.vault.key_of(citizen.citizen_ref)
        shredded = key is None and self.vault.keys.is_destroyed(citizen.citizen_ref)
        return CitizenRecord(citizen, open_attributes(citizen, key), _consent_purpose(citizen, key), shredded=shredded)

    def record(self, principal: Reader, citizen_ref: str) -> CitizenRecord:
        def work(uow: UnitOfWork) -> Citizen:
            citizen = _citizen(uow.session, citizen_ref)
            check_knows_citizen(uow.session, principal, citizen)
            self._audit(uow, principal, Read(citizen_ref, "record"))
            return citizen

        return self.opened(self.runtime.write(work))

    def contact(self, principal: Reader, citizen_ref: str) -> dict[str, str | None]:
        def work(uow: UnitOfWork) -> dict[str, str | None]:
            citizen = get_citizen(uow.session, citizen_ref)
            check_knows_citizen(uow.session, principal, citizen)
            if citizen.contact_ciphertext is None:
                raise NotFound("no contact data is recorded for this citizen")
            key = self.vault.key_of(citizen_ref)
            try:
                if key is None:
                    raise Unreadable("the citizen's key is gone")
                data = key.open_contact(citizen.contact_ciphertext)
            except Unreadable as exc:
                raise Gone("the contact data can no longer be read: the citizen has been erased") from exc
            self._audit(uow, principal, Read(citizen_ref, "contact"))
            return data

        return self.runtime.write(work)

    def audit(self, principal: Reader, citizen_ref: str) -> list[AuditEntry]:
        """Who read this citizen's data; reading it is a read about the citizen, logged too."""

        def work(uow: UnitOfWork) -> list[AuditEntry]:
            _citizen(uow.session, citizen_ref)
            entries = audit.of_citizen(uow.session, citizen_ref)
            self._audit(uow, principal, Read(citizen_ref, "list"))
            return entries

        return self.runtime.write(work)

    def erase(
        self, citizen_ref: str, *, reason: Literal["request", "retention"] = "request", actor_id: str
    ) -> ErasureResult:
        """Erase a citizen: their key is destroyed first (crypto-shredding), then one unit of
        work cancels their open referrals and clears what is left (service/erasure.py).
        404 unknown, 410 erased already."""
        self.runtime.read(lambda session: get_citizen(session, citizen_ref))
        self.vault.destroy(citizen_ref)
        event = CitizenErased(citizen_ref=citizen_ref)

        def work(uow: UnitOfWork) -> ErasureResult:
            envelope = uow.stage(event)[0]
            return ErasureResult(envelope, self.appliers.erase_citizen(uow.session, envelope, event))

        for attempt in range(1, ERASE_TRIES + 1):
            try:
                result = self.runtime.write(work)
            except Conflict:  # a referral moved meanwhile; the key is gone already, so again
                if attempt < ERASE_TRIES:
                    continue
                raise
            if not self.runtime.db.forget_wal():  # old page images of the cleared rows
                log.warning("the write-ahead log could not be truncated after an erasure; retried next time")
            # Counts and who asked, never whom: the log must not say who was erased.
            cancelled = result.referrals_cancelled
            log.info("citizen erased (%s, by %s): %d open referrals cancelled", reason, actor_id, cancelled)
            return result
        raise AssertionError("unreachable")

    def reapply_erasures(self, actor_id: str) -> int:
        """After a restore from a backup taken before some erasures: erase again every citizen
        whose key the key store destroyed but whose row does not say so; returns how many."""
        destroyed = sorted(self.vault.keys.destroyed())

        def pending(session: Session) -> list[str]:
            found: list[str] = []
            for start in range(0, len(destroyed), 500):
                chunk = destroyed[start : start + 500]
                query = select(Citizen.citizen_ref).where(Citizen.citizen_ref.in_(chunk), Citizen.erased_at.is_(None))
                found.extend(session.scalars(query))
            return found

        refs = self.runtime.read(pending)
        for ref in refs:
            self.erase(ref, actor_id=actor_id)
        return len(refs)

    def bridge(self, principal: Reader, citizen_ref: str, body: BridgeIn) -> tuple[Envelope, CitizenBridged]:
        event = CitizenBridged(
            citizen_ref=citizen_ref, from_community_id=body.from_community_id, to_referral_id=body.to_referral_id
        )

        def work(uow: UnitOfWork) -> Envelope:
            check_knows_citizen(uow.session, principal, get_citizen(uow.session, citizen_ref))
            envelope = uow.stage(event)[0]
            bridge(uow.session, envelope, event)
            self._audit(uow, principal, Read(citizen_ref, "record"))
            return envelope

        return self.runtime.write(work), event

    def _audit(self, uow: UnitOfWork, principal: Reader, *reads: Read) -> None:
        audit.record(uow.session, principal, reads, uow.now())


def open_attributes(citizen: Citizen, key: CitizenKey | None) -> CitizenAttributes | None:
    return opened(key, citizen.attributes_ciphertext, CitizenKey.open_attributes)


def _consent_purpose(citizen: Citizen, key: CitizenKey | None) -> str | None:
    return opened(key, citizen.consent_purpose_ciphertext, CitizenKey.open_consent_purpose)


def _citizen(session: Session, citizen_ref: str) -> Citizen:
    citizen = session.get(Citizen, citizen_ref)
    if citizen is None:
        raise NotFound(f"citizen {citizen_ref!r} is not registered")
    return citizen


def check_knows_citizen(session: Session, principal: Principal, citizen: Citizen) -> None:
    """Guides and admins know every citizen; a referrer only those they registered or referred."""
    if principal.role in visibility.SEE_ALL or citizen.registered_by == principal.actor_id:
        return
    if not store.has_referred(session, principal.actor_id, citizen.citizen_ref):
        raise Forbidden("you have not registered or referred this citizen")
