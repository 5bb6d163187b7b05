"""`/v1/communities`: the service's copy of the catalogue's communities."""

from __future__ import annotations

from fastapi import APIRouter

from services.referrals import store
from services.referrals.api.deps import Service
from services.referrals.api.presenters import community_out
from services.referrals.schemas import CommunityOut
from shared.auth import CurrentPrincipal

router = APIRouter(tags=["communities"])


@router.get("/v1/communities", summary="Communities known from the catalogue's events")
def communities(_: CurrentPrincipal, service: Service, include_archived: bool = False) -> list[CommunityOut]:
    rows = service.runtime.read(lambda session: store.list_communities(session, include_archived=include_archived))
    return [community_out(c) for c in rows]
