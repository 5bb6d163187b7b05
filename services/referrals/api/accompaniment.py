"""`/v1/accompaniment-requests`: referrals that need a companion, as a volunteer sees them
(open to take, their own, taken by someone else lately); guides see every open one."""

from __future__ import annotations

from fastapi import APIRouter

from services.referrals.api.deps import ForAccompaniment, Referring, Service
from services.referrals.api.presenters import request_out
from services.referrals.schemas import AccompanimentRequestOut

router = APIRouter(tags=["accompaniment"])


@router.get("/v1/accompaniment-requests", summary="Accompaniment requests: open, mine, taken")
def requests(_: Referring, principal: ForAccompaniment, service: Service) -> list[AccompanimentRequestOut]:
    found = service.accompaniment.requests(principal)
    return [request_out(item, found.shown) for item in found.items]
