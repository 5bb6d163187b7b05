"""`/hsds`: the public HSDS 3.0 API (no token, rate-limited per client)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.catalogue import hsds as records
from services.catalogue.api.deps import CatalogueDep, HsdsPage, HsdsPerPage
from services.catalogue.hsds_models import (
    HsdsMeta,
    HsdsOrganization,
    HsdsService,
    HsdsServiceAtLocation,
    OrganizationPage,
    ServiceAtLocationPage,
    ServicePage,
    Taxonomy,
    TaxonomyPage,
    TaxonomyTerm,
    TermPage,
)
from services.catalogue.ratelimit import TokenBucket
from services.catalogue.service import hsds
from services.catalogue.service.hsds import ServiceQuery
from shared.proxies import client_address

Search = Annotated[str, Query(max_length=200, description="full text search")]
TaxonomyId = Annotated[
    str | None, Query(max_length=100, description="only what carries a term of this taxonomy (its id)")
]


def service_query(
    search: Search = "",
    taxonomy_term_id: Annotated[
        str | None, Query(max_length=100, description="only services with this taxonomy term (its id)")
    ] = None,
    taxonomy_id: TaxonomyId = None,
    organization_id: Annotated[
        str | None, Query(max_length=100, description="only the services this organisation provides (its id)")
    ] = None,
    modified_after: Annotated[
        datetime | None, Query(description="only services modified on or after this time (RFC 3339)")
    ] = None,
) -> ServiceQuery:
    return ServiceQuery(search, taxonomy_term_id, taxonomy_id, organization_id, modified_after)


ServiceQueryDep = Annotated[ServiceQuery, Depends(service_query)]


def rate_limit(bucket: TokenBucket) -> Callable[[Request], None]:
    def dependency(request: Request) -> None:
        wait = bucket.take(client_address(request))  # behind a trusted proxy: the client's
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                429, f"too many requests; try again in {seconds} s", headers={"Retry-After": str(seconds)}
            )

    return dependency


def public_router(bucket: TokenBucket, openapi_url: str) -> APIRouter:
    api = APIRouter(prefix="/hsds", tags=["HSDS 3.0 (public)"], dependencies=[Depends(rate_limit(bucket))])
    # Where this API is published (a taxonomy's `uri` points into it).
    base_url = openapi_url.removesuffix("/openapi.json")

    @api.get("/", summary="About this HSDS API")
    def meta() -> HsdsMeta:
        return HsdsMeta(version=records.HSDS_VERSION, profile=records.PROFILE_URL, openapi_url=openapi_url)

    @api.get("/services", summary="Services (communities), one page", response_model_exclude_none=True)
    def services(
        catalogue: CatalogueDep, query: ServiceQueryDep, page: HsdsPage = 1, per_page: HsdsPerPage = 50
    ) -> ServicePage:
        return hsds.services(catalogue, query, page, per_page)

    @api.get("/services/{service_id}", summary="One fully nested service", response_model_exclude_none=True)
    def service(service_id: str, catalogue: CatalogueDep) -> HsdsService:
        return hsds.service(catalogue, service_id)

    @api.get("/organizations", summary="Organisations, one page", response_model_exclude_none=True)
    def organizations(
        catalogue: CatalogueDep, page: HsdsPage = 1, per_page: HsdsPerPage = 50, search: Search = ""
    ) -> OrganizationPage:
        return hsds.organization_page(catalogue, page, per_page, search)

    @api.get(
        "/organizations/{organization_id}",
        summary="One organisation with its services",
        response_model_exclude_none=True,
    )
    def organization(organization_id: str, catalogue: CatalogueDep) -> HsdsOrganization:
        return hsds.organization(catalogue, organization_id)

    @api.get(
        "/service_at_locations",
        summary="Services (communities) at their locations, one page",
        response_model_exclude_none=True,
    )
    def service_at_locations(
        catalogue: CatalogueDep, query: ServiceQueryDep, page: HsdsPage = 1, per_page: HsdsPerPage = 50
    ) -> ServiceAtLocationPage:
        return hsds.service_at_location_page(catalogue, query, page, per_page)

    @api.get(
        "/service_at_locations/{service_at_location_id}",
        summary="One fully nested service at a location",
        response_model_exclude_none=True,
    )
    def service_at_location(service_at_location_id: str, catalogue: CatalogueDep) -> HsdsServiceAtLocation:
        return hsds.service_at_location(catalogue, service_at_location_id)

    @api.get("/taxonomies", summary="The taxonomies (our categories; the programme's kinds of community)")
    def taxonomies(page: HsdsPage = 1, per_page: HsdsPerPage = 50, search: Search = "") -> TaxonomyPage:
        return hsds.taxonomy_page(base_url, page, per_page, search)

    @api.get("/taxonomies/{taxonomy_id}", summary="One taxonomy")
    def taxonomy(taxonomy_id: str) -> Taxonomy:
        return hsds.taxonomy(base_url, taxonomy_id)

    @api.get("/taxonomy_terms", summary="The taxonomy terms (our categories and practice tracks)")
    def taxonomy_terms(
        page: HsdsPage = 1, per_page: HsdsPerPage = 50, search: Search = "", taxonomy_id: TaxonomyId = None
    ) -> TermPage:
        return hsds.term_page(page, per_page, search, taxonomy_id)

    @api.get("/taxonomy_terms/{term_id}", summary="One taxonomy term")
    def taxonomy_term(term_id: str) -> TaxonomyTerm:
        return hsds.term(term_id)

    return api
