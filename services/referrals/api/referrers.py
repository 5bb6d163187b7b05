"""`/v1/referrers`: activation (a cascade edge), the directory, readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.referrals.api.deps import Directory, Recruiting, Service, Staff
from services.referrals.api.presenters import referrer_out
from services.referrals.cascade import Readiness
from services.referrals.schemas import ReadinessIn, ReferrerIn, ReferrerOut, TrainingIn
from services.referrals.service.referrers import DirectoryQuery
from shared.responses import errors

router = APIRouter(prefix="/v1/referrers", tags=["referrers"])


@router.post(
    "",
    status_code=201,
    summary="Activate a referrer (a cascade edge)",
    responses=errors(404, 409, 410),  # a former citizen unknown or erased; the referrer exists already
)
def activate(body: ReferrerIn, principal: Recruiting, service: Service) -> ReferrerOut:
    return referrer_out(service.referrers.activate(principal, body))


@router.get("", summary="List referrers (directory data)")
def directory(
    principal: Directory,
    service: Service,
    role: Annotated[str | None, Query()] = None,
    area: Annotated[str | None, Query(description="An area code (or its Danish label)")] = None,
    activated_by: Annotated[str | None, Query()] = None,
    offers_accompaniment: Annotated[bool | None, Query()] = None,
    email: Annotated[
        str | None, Query(max_length=200, description="Work e-mail, exact in any case (guides and admins)")
    ] = None,
    readiness: Annotated[Readiness | None, Query()] = None,
    has_referred: Annotated[bool | None, Query()] = None,
) -> list[ReferrerOut]:
    query = DirectoryQuery(
        role=role,
        area=area,
        activated_by=activated_by,
        offers_accompaniment=offers_accompaniment,
        email=email,
        readiness=readiness,
        has_referred=has_referred,
    )
    return [referrer_out(r) for r in service.referrers.directory(principal, query)]


@router.get("/{actor_id}")
def get(actor_id: str, _: Directory, service: Service) -> ReferrerOut:
    return referrer_out(service.referrers.get(actor_id))


@router.post("/{actor_id}/readiness", summary="Record a referrer's readiness level")
def record_readiness(actor_id: str, body: ReadinessIn, _: Staff, service: Service) -> ReferrerOut:
    return referrer_out(service.referrers.record_readiness(actor_id, body))


@router.post("/{actor_id}/training", status_code=201, summary="Record a training (moves the referrer up to trained)")
def training(actor_id: str, body: TrainingIn, _: Staff, service: Service) -> ReferrerOut:
    return referrer_out(service.referrers.record_training(actor_id, body))
