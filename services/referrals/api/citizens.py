"""`/v1/citizens`: pseudonymous citizens, their audited record and contact data, erasure,
and bridges out of practice tracks."""

from __future__ import annotations

from fastapi import APIRouter

from services.referrals import audit as audit_log
from services.referrals.api.deps import (
    ContactReader,
    ForContact,
    ForErasure,
    ForFollowUp,
    ForSupervision,
    Referring,
    Service,
    Staff,
)
from services.referrals.api.presenters import audit_out, citizen_out
from services.referrals.schemas import AuditOut, BridgeIn, BridgeOut, CitizenIn, CitizenOut, ContactOut, ErasedOut
from shared.responses import errors

router = APIRouter(prefix="/v1/citizens", tags=["citizens"])


@router.post(
    "", status_code=201, summary="Register a pseudonymous citizen", responses=errors(409)
)  # the citizen_ref is taken, or was erased
def register(body: CitizenIn, _: Referring, principal: ForFollowUp, service: Service) -> CitizenOut:
    return citizen_out(service.citizens.register(principal, body))


@router.get("/{citizen_ref}", summary="A citizen's pseudonymous record (audited)", responses=errors(410))
def get(citizen_ref: str, _: Referring, principal: ForFollowUp, service: Service) -> CitizenOut:
    return citizen_out(service.citizens.record(principal, citizen_ref))


@router.get("/{citizen_ref}/contact", summary="Read contact data (audited)", responses=errors(410))
def contact(citizen_ref: str, _: ContactReader, principal: ForContact, service: Service) -> ContactOut:
    data = service.citizens.contact(principal, citizen_ref)
    return ContactOut(citizen_ref=citizen_ref, name=data.get("name"), phone=data.get("phone"), email=data.get("email"))


@router.get("/{citizen_ref}/audit", summary="Who read this citizen's data", responses=errors(410))
def audit(citizen_ref: str, _: Staff, principal: ForSupervision, service: Service) -> list[AuditOut]:
    return [audit_out(row) for row in service.citizens.audit(principal, citizen_ref)]


@router.delete(
    "/{citizen_ref}",
    summary="Erase a citizen: destroy their key (crypto-shredding), cancel their open referrals",
    responses=errors(410),
)
def erase(citizen_ref: str, principal: Staff, reader: ForErasure, service: Service) -> ErasedOut:
    result = service.citizens.erase(citizen_ref, actor_id=principal.actor_id)
    # The answer names the citizen: who erased whom is in the audit log (purpose erasure).
    audit_log.record_apart(service.runtime, reader, [audit_log.Read(citizen_ref, "record")])
    return ErasedOut(
        citizen_ref=citizen_ref, erased_at=result.envelope.time, referrals_cancelled=result.referrals_cancelled
    )


@router.post(
    "/{citizen_ref}/bridge",
    status_code=201,
    summary="Record a bridge out of a practice track",
    responses=errors(409, 410),
)
def bridge(citizen_ref: str, body: BridgeIn, _: Referring, principal: ForFollowUp, service: Service) -> BridgeOut:
    envelope, event = service.citizens.bridge(principal, citizen_ref, body)
    return BridgeOut(event_id=envelope.id, **event.model_dump())
