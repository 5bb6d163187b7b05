"""Use cases of citizens: registration with consent, the audited record and contact data,
erasure (crypto-shredding) and the bridge out of a practice track."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from services.referrals import cascade, domain, store
from services.referrals.crypto import CitizenVault, ContactUnreadable
from services.referrals.schemas import BridgeIn, CitizenIn
from services.referrals.service.apply import Appliers, Consent
from services.referrals.service.batch import Gone, get_citizen
from services.referrals.service.transitions import bridge
from services.referrals.tables import Citizen, ContactAudit
from shared.clock import COPENHAGEN
from shared.errors import Forbidden, Invalid, NotFound
from shared.events import Envelope
from shared.events.referrals import CitizenBridged, CitizenErased, CitizenRegistered
from shared.principal import Principal
from shared.profile import profile
from shared.runtime import Runtime
from shared.uow import UnitOfWork


class Citizens:
    def __init__(self, runtime: Runtime, appliers: Appliers, vault: CitizenVault) -> None:
        self.runtime, self.appliers, self.vault = runtime, appliers, vault

    def register(self, principal: Principal, body: CitizenIn) -> Citizen:
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
            return self.appliers.register_citizen(
                uow.session,
                uow.stage(event)[0],
                event,
                consent=consent,
                registered_by=principal.actor_id,
                contact=contact,
                languages=body.languages,
            )

        return self.runtime.write(work)

    def record(self, principal: Principal, citizen_ref: str) -> Citizen:
        def work(uow: UnitOfWork) -> Citizen:
            citizen = _citizen(uow.session, citizen_ref)
            check_knows_citizen(uow.session, principal, citizen)
            self._audit(uow, principal, citizen_ref, "record", "view record")
            return citizen

        return self.runtime.write(work)

    def contact(self, principal: Principal, citizen_ref: str, purpose: str) -> dict[str, str | None]:
        def work(uow: UnitOfWork) -> dict[str, str | None]:
            citizen = get_citizen(uow.session, citizen_ref)
            check_knows_citizen(uow.session, principal, citizen)
            if citizen.contact_ciphertext is None:
                raise NotFound("no contact data is recorded for this citizen")
            try:
                data = self.vault.open(citizen_ref, citizen.wrapped_key, citizen.contact_ciphertext)
            except ContactUnreadable as exc:
                raise Gone("the contact data can no longer be read") from exc
            self._audit(uow, principal, citizen_ref, "contact", purpose)
            return data

        return self.runtime.write(work)

    def audit(self, citizen_ref: str) -> list[ContactAudit]:
        def work(session: Session) -> list[ContactAudit]:
            _citizen(session, citizen_ref)
            return store.audits_of(session, citizen_ref)

        return self.runtime.read(work)

    def erase(self, citizen_ref: str) -> Envelope:
        event = CitizenErased(citizen_ref=citizen_ref)

        def work(uow: UnitOfWork) -> Envelope:
            envelope = uow.stage(event)[0]
            self.appliers.erase_citizen(uow.session, envelope, event)
            return envelope

        return self.runtime.write(work)

    def bridge(self, principal: Principal, citizen_ref: str, body: BridgeIn) -> tuple[Envelope, CitizenBridged]:
        event = CitizenBridged(
            citizen_ref=citizen_ref, from_community_id=body.from_community_id, to_referral_id=body.to_referral_id
        )

        def work(uow: UnitOfWork) -> Envelope:
            check_knows_citizen(uow.session, principal, get_citizen(uow.session, citizen_ref))
            envelope = uow.stage(event)[0]
            bridge(uow.session, envelope, event)
            return envelope

        return self.runtime.write(work), event

    def _audit(self, uow: UnitOfWork, principal: Principal, citizen_ref: str, what: str, purpose: str) -> None:
        row = ContactAudit(citizen_ref=citizen_ref, actor_id=principal.actor_id, role=principal.role.value)
        row.what, row.purpose, row.at = what, purpose, uow.now()
        uow.session.add(row)


def _citizen(session: Session, citizen_ref: str) -> Citizen:
    citizen = session.get(Citizen, citizen_ref)
    if citizen is None:
        raise NotFound(f"citizen {citizen_ref!r} is not registered")
    return citizen


def check_knows_citizen(session: Session, principal: Principal, citizen: Citizen) -> None:
    """Guides and admins know every citizen; a referrer only those they registered or referred."""
    if principal.role in domain.SEE_ALL or citizen.registered_by == principal.actor_id:
        return
    if not store.has_referred(session, principal.actor_id, citizen.citizen_ref):
        raise Forbidden("you have not registered or referred this citizen")
