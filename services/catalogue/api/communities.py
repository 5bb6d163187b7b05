"""`/v1/communities`: register, search, change, capacity, archive; categories and areas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.catalogue.api.deps import CatalogueDep, OwnContactOrStaff, Page, PerPage, Reader, Writer
from services.catalogue.domain import CommunityKind, Weekday, contact_email_filter
from services.catalogue.schemas import CapacityIn, CommunityIn, CommunityPatch, ContactUpdate
from services.catalogue.search import Filters
from services.catalogue.service import communities, searching
from services.catalogue.views import AreaOut, CategoryOut, CommunityOut, CommunityPage
from shared.errors import Invalid
from shared.responses import errors

router = APIRouter(prefix="/v1", tags=["communities"])


@router.post(
    "/communities",
    status_code=status.HTTP_201_CREATED,
    summary="Register a community (publishes CommunityRegistered)",
    responses=errors(409),  # the id is taken, or the organisation is archived
)
def create_community(body: CommunityIn, _: Writer, catalogue: CatalogueDep) -> CommunityOut:
    return communities.register(catalogue, body)


@router.get("/communities", summary="Search communities (Danish free text with synonyms, filters, ranking, pages)")
def search_communities(
    principal: Reader,
    catalogue: CatalogueDep,
    page: Page = 1,
    per_page: PerPage = 20,
    q: Annotated[str, Query(max_length=200, description="free text, e.g. 'strikke' or 'løb'")] = "",
    category: Annotated[list[str] | None, Query(description="category id; repeat for any of several")] = None,
    area: Annotated[list[str] | None, Query(description="area code (GET /v1/areas); repeat for any of several")] = None,
    kind: CommunityKind | None = None,
    open_seats: Annotated[bool, Query(description="only communities with open seats")] = False,
    accepts_special_needs: bool | None = None,
    free: Annotated[bool, Query(description="only communities whose cost says they are free")] = False,
    accompaniment_welcome: Annotated[bool, Query(description="only communities that welcome a companion")] = False,
    weekday: Weekday | None = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    within_km: Annotated[float, Query(gt=0, le=500)] = 5.0,
    organization_id: str | None = None,
    contact_email: Annotated[
        str | None,
        Query(max_length=200, description="the welcome contact's e-mail, exact and case-insensitive (guide, admin)"),
    ] = None,
) -> CommunityPage:
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon to search near a place", field="lat" if lat is None else "lon")
    filters = Filters(
        categories=frozenset(category or ()),
        areas=searching.area_codes(area),
        kind=kind,
        open_seats=open_seats,
        accepts_special_needs=accepts_special_needs,
        free=free,
        accompaniment_welcome=accompaniment_welcome,
        weekday=weekday,
        near=(lat, lon) if lat is not None and lon is not None else None,
        within_km=within_km,
        organization_id=organization_id,
        contact_email=contact_email_filter(principal, contact_email),
    )
    return searching.search(catalogue, q, filters, page, per_page)


@router.get("/communities/{community_id}", summary="One community")
def get_community(community_id: str, _: Reader, catalogue: CatalogueDep) -> CommunityOut:
    return communities.get(catalogue, community_id)


@router.patch(
    "/communities/{community_id}",
    summary="Change a community (publishes CommunityUpdated when something changed)",
    responses=errors(409),  # archived
)
def update_community(community_id: str, body: CommunityPatch, _: Writer, catalogue: CatalogueDep) -> CommunityOut:
    return communities.update(catalogue, community_id, body)


@router.post("/communities/{community_id}/archive", summary="Archive a community (publishes CommunityArchived)")
def archive_community(community_id: str, _: Writer, catalogue: CatalogueDep) -> CommunityOut:
    return communities.archive(catalogue, community_id)


@router.put(
    "/communities/{community_id}/capacity",
    summary="Report seats (publishes CommunityCapacityChanged when it changed)",
    responses=errors(409),
    description="Guides, admins, and the community's own contact (a community_contact token listing it). "
    "A report without `total` keeps the total seats already known.",
)
def put_capacity(
    community_id: str, body: CapacityIn, principal: OwnContactOrStaff, catalogue: CatalogueDep
) -> CommunityOut:
    return communities.report_capacity(catalogue, community_id, body, principal)


@router.put(
    "/communities/{community_id}/contact",
    summary="Correct the contact person (publishes CommunityUpdated when it changed)",
    responses=errors(409),
    description="The community's own contact (a community_contact token listing it), guides and admins. "
    "The whole contact person is replaced: `name`, an `email` and/or a `phone`, and `public`: whether "
    "they consent to be shown in the public HSDS feed (left out: not public). Staff always see them.",
)
def put_contact(
    community_id: str, body: ContactUpdate, principal: OwnContactOrStaff, catalogue: CatalogueDep
) -> CommunityOut:
    return communities.set_contact(catalogue, community_id, body, principal)


@router.delete(
    "/communities/{community_id}/contact",
    summary="Remove the contact person (publishes CommunityUpdated with an empty contact)",
    responses=errors(409),
    description="The community's own contact, guides and admins; also on an archived community. "
    "The public feeds then show the organisation's own contact details only, and no more mail goes "
    "to the removed person.",
)
def delete_contact(community_id: str, principal: OwnContactOrStaff, catalogue: CatalogueDep) -> CommunityOut:
    return communities.set_contact(catalogue, community_id, None, principal)


@router.get("/categories", summary="The categories (taxonomy) with community counts")
def categories(_: Reader, catalogue: CatalogueDep) -> list[CategoryOut]:
    return searching.categories(catalogue)


@router.get("/areas", summary="The municipality's areas (codes and Danish names) with community counts")
def areas(_: Reader, catalogue: CatalogueDep) -> list[AreaOut]:
    return searching.areas(catalogue)
