"""`/v1/outreach`: postcards, info meetings and door-to-door visits."""

from __future__ import annotations

from fastapi import APIRouter

from services.referrals.api.deps import Referring, Service
from services.referrals.schemas import OutreachIn, OutreachOut

router = APIRouter(tags=["outreach"])


@router.post("/v1/outreach", status_code=201, summary="Record postcards, info meetings, door-to-door visits")
def record(body: OutreachIn, principal: Referring, service: Service) -> OutreachOut:
    envelope, event = service.referrers.record_outreach(principal, body)
    return OutreachOut(event_id=envelope.id, time=envelope.time, **event.model_dump())
