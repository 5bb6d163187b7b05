"""`/v1/needs` and `/v1/network-meetings`: what citizens miss, and the associations' meetings."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.catalogue.api.deps import CatalogueDep, Page, PerPage, Reader, Writer
from services.catalogue.schemas import NeedIn, NetworkMeetingIn
from services.catalogue.service import needs
from services.catalogue.views import MeetingOut, NeedOut, NeedPage
from shared.responses import errors

router = APIRouter(prefix="/v1")


@router.post(
    "/needs",
    status_code=status.HTTP_201_CREATED,
    tags=["needs"],
    summary="Record an unmet need heard from citizens (publishes NeedRecorded)",
    responses=errors(409),
)
def record_need(body: NeedIn, principal: Writer, catalogue: CatalogueDep) -> NeedOut:
    return needs.record(catalogue, body, principal)


@router.get("/needs", tags=["needs"], summary="The needs register, newest first")
def list_needs(
    _: Reader,
    catalogue: CatalogueDep,
    page: Page = 1,
    per_page: PerPage = 50,
    area: str | None = None,
    category: str | None = None,
) -> NeedPage:
    return needs.listing(catalogue, area, category, page, per_page)


@router.post(
    "/network-meetings",
    status_code=status.HTTP_201_CREATED,
    tags=["network meetings"],
    summary="Record an association network meeting (publishes NetworkMeetingHeld)",
    responses=errors(409),
)
def hold_meeting(body: NetworkMeetingIn, principal: Writer, catalogue: CatalogueDep) -> MeetingOut:
    return needs.hold_meeting(catalogue, body, principal)


@router.get("/network-meetings", tags=["network meetings"], summary="Network meetings, newest first")
def list_meetings(_: Reader, catalogue: CatalogueDep) -> list[MeetingOut]:
    return needs.meeting_listing(catalogue)
