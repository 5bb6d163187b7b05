"""HTTP API of the catalogue: organisations, communities, capacity, search, needs, meetings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from services.catalogue.domain import CommunityKind, Weekday
from services.catalogue.schemas import (
    CapacityIn,
    CommunityIn,
    CommunityPatch,
    NeedIn,
    NetworkMeetingIn,
    OrganizationIn,
    OrganizationPatch,
)
from services.catalogue.search import Filters
from services.catalogue.service import Catalogue
from shared.auth import CurrentPrincipal, Principal, Role, require
from shared.errors import Invalid


def get_catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
Writer = Annotated[Principal, Depends(require(Role.guide, Role.admin))]
Reader = CurrentPrincipal
Page = Annotated[int, Query(ge=1, le=10_000, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=100, description="results per page (at most 100)")]


def router() -> APIRouter:
    api = APIRouter(prefix="/v1")

    # ------------------------------------------------------------------ organisations

    @api.post(
        "/organizations",
        status_code=status.HTTP_201_CREATED,
        tags=["organisations"],
        summary="Register an organisation (association, municipal unit, business, housing association)",
    )
    def create_organization(body: OrganizationIn, _: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.create_organization(body)

    @api.get("/organizations", tags=["organisations"], summary="All organisations")
    def list_organizations(_: Reader, catalogue: CatalogueDep, include_archived: bool = False) -> list[dict[str, Any]]:
        return catalogue.organizations(include_archived)

    @api.get("/organizations/{organization_id}", tags=["organisations"], summary="One organisation")
    def get_organization(organization_id: str, _: Reader, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.organization(organization_id)

    @api.patch("/organizations/{organization_id}", tags=["organisations"], summary="Change an organisation")
    def update_organization(
        organization_id: str, body: OrganizationPatch, _: Writer, catalogue: CatalogueDep
    ) -> dict[str, Any]:
        return catalogue.update_organization(organization_id, body)

    @api.post(
        "/organizations/{organization_id}/archive",
        tags=["organisations"],
        summary="Archive an organisation that has no active communities",
    )
    def archive_organization(organization_id: str, _: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.archive_organization(organization_id)

    # ------------------------------------------------------------------ communities

    @api.post(
        "/communities",
        status_code=status.HTTP_201_CREATED,
        tags=["communities"],
        summary="Register a community (publishes CommunityRegistered)",
    )
    def create_community(body: CommunityIn, _: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.register_community(body)

    @api.get(
        "/communities", tags=["communities"], summary="Search communities (Danish free text, filters, ranking, pages)"
    )
    def search_communities(
        _: Reader,
        catalogue: CatalogueDep,
        page: Page = 1,
        per_page: PerPage = 20,
        q: Annotated[str, Query(max_length=200, description="free text, e.g. 'strikke' or 'løb'")] = "",
        category: Annotated[list[str] | None, Query(description="category id; repeat for any of several")] = None,
        area: Annotated[list[str] | None, Query(description="housing area; repeat for any of several")] = None,
        kind: CommunityKind | None = None,
        open_seats: Annotated[bool, Query(description="only communities with open seats")] = False,
        accepts_special_needs: bool | None = None,
        weekday: Weekday | None = None,
        lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
        within_km: Annotated[float, Query(gt=0, le=500)] = 5.0,
        organization_id: str | None = None,
    ) -> dict[str, Any]:
        if (lat is None) != (lon is None):
            raise Invalid("give both lat and lon to search near a place", field="lat" if lat is None else "lon")
        filters = Filters(
            categories=frozenset(category or ()),
            areas=frozenset(a.lower() for a in area or ()),
            kind=kind,
            open_seats=open_seats,
            accepts_special_needs=accepts_special_needs,
            weekday=weekday,
            near=(lat, lon) if lat is not None and lon is not None else None,
            within_km=within_km,
            organization_id=organization_id,
        )
        return catalogue.search(q, filters, page, per_page)

    @api.get("/communities/{community_id}", tags=["communities"], summary="One community")
    def get_community(community_id: str, _: Reader, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.community(community_id)

    @api.patch(
        "/communities/{community_id}",
        tags=["communities"],
        summary="Change a community (publishes CommunityUpdated when something changed)",
    )
    def update_community(community_id: str, body: CommunityPatch, _: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.update_community(community_id, body)

    @api.post(
        "/communities/{community_id}/archive",
        tags=["communities"],
        summary="Archive a community (publishes CommunityArchived)",
    )
    def archive_community(community_id: str, _: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.archive_community(community_id)

    @api.put(
        "/communities/{community_id}/capacity",
        tags=["communities"],
        summary="Report seats (publishes CommunityCapacityChanged when it changed)",
    )
    def put_capacity(community_id: str, body: CapacityIn, _: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.change_capacity(community_id, body)

    @api.get("/categories", tags=["communities"], summary="The categories (taxonomy) with community counts")
    def categories(_: Reader, catalogue: CatalogueDep) -> list[dict[str, Any]]:
        return catalogue.categories()

    # ------------------------------------------------------------------ needs and meetings

    @api.post(
        "/needs",
        status_code=status.HTTP_201_CREATED,
        tags=["needs"],
        summary="Record an unmet need heard from citizens (publishes NeedRecorded)",
    )
    def record_need(body: NeedIn, principal: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.record_need(body, principal)

    @api.get("/needs", tags=["needs"], summary="The needs register, newest first")
    def list_needs(
        _: Reader,
        catalogue: CatalogueDep,
        page: Page = 1,
        per_page: PerPage = 50,
        area: str | None = None,
        category: str | None = None,
    ) -> dict[str, Any]:
        return catalogue.needs(area, category, page, per_page)

    @api.post(
        "/network-meetings",
        status_code=status.HTTP_201_CREATED,
        tags=["network meetings"],
        summary="Record an association network meeting (publishes NetworkMeetingHeld)",
    )
    def hold_meeting(body: NetworkMeetingIn, principal: Writer, catalogue: CatalogueDep) -> dict[str, Any]:
        return catalogue.hold_meeting(body, principal)

    @api.get("/network-meetings", tags=["network meetings"], summary="Network meetings, newest first")
    def list_meetings(_: Reader, catalogue: CatalogueDep) -> list[dict[str, Any]]:
        return catalogue.meetings()

    return api
