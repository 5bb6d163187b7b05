"""`/v1/citizens`: pseudonymous citizens, their audited record and contact data, erasure,
and bridges out of practice tracks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.referrals.api.deps import ContactReader, Referring, Service, Staff
from services.referrals.api.presenters import audit_out, citizen_out
from services.referrals.schemas import AuditOut, BridgeIn, BridgeOut, CitizenIn, CitizenOut, ContactOut, ErasedOut
from shared.privacy import FreeText

router = APIRouter(prefix="/v1/citizens", tags=["citizens"])


@router.post("", status_code=201, summary="Register a pseudonymous citizen")
def register(body: CitizenIn, principal: Referring, service: Service) -> CitizenOut:
    return citizen_out(service.citizens.register(principal, body))


@router.get("/{citizen_ref}", summary="A citizen's pseudonymous record (audited)")
def get(citizen_ref: str, principal: Referring, service: Service) -> CitizenOut:
    return citizen_out(service.citizens.record(principal, citizen_ref))


@router.get("/{citizen_ref}/contact", summary="Read contact data (audited)")
def contact(
    citizen_ref: str,
    principal: ContactReader,
    service: Service,
    purpose: Annotated[FreeText, Query(min_length=3, max_length=500, description="Why you read it")],
) -> ContactOut:
    data = service.citizens.contact(principal, citizen_ref, purpose)
    return ContactOut(citizen_ref=citizen_ref, name=data.get("name"), phone=data.get("phone"), email=data.get("email"))


@router.get("/{citizen_ref}/audit", summary="Who read this citizen's data")
def audit(citizen_ref: str, _: Staff, service: Service) -> list[AuditOut]:
    return [audit_out(row) for row in service.citizens.audit(citizen_ref)]


@router.delete("/{citizen_ref}", summary="Erase a citizen: destroy their key (crypto-shredding)")
def erase(citizen_ref: str, _: Staff, service: Service) -> ErasedOut:
    envelope = service.citizens.erase(citizen_ref)
    return ErasedOut(citizen_ref=citizen_ref, erased_at=envelope.time)


@router.post("/{citizen_ref}/bridge", status_code=201, summary="Record a bridge out of a practice track")
def bridge(citizen_ref: str, body: BridgeIn, principal: Referring, service: Service) -> BridgeOut:
    envelope, event = service.citizens.bridge(principal, citizen_ref, body)
    return BridgeOut(event_id=envelope.id, **event.model_dump())
