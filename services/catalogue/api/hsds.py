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
    OrganizationPage,
    ServicePage,
    TaxonomyTerm,
    TermPage,
)
from services.catalogue.ratelimit import TokenBucket
from services.catalogue.service import hsds

Search = Annotated[str, Query(max_length=200)]


def rate_limit(bucket: TokenBucket) -> Callable[[Request], None]:
    def dependency(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = bucket.take(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                429, f"too many requests; try again in {seconds} s", headers={"Retry-After": str(seconds)}
            )

    return dependency


def public_router(bucket: TokenBucket, openapi_url: str) -> APIRouter:
    api = APIRouter(prefix="/hsds", tags=["HSDS 3.0 (public)"], dependencies=[Depends(rate_limit(bucket))])

    @api.get("/", summary="About this HSDS API")
    def meta() -> HsdsMeta:
        return HsdsMeta(version=records.HSDS_VERSION, profile=records.PROFILE_URL, openapi_url=openapi_url)

    @api.get("/services", summary="Services (communities), one page", response_model_exclude_none=True)
    def services(
        catalogue: CatalogueDep,
        search: Search = "",
        page: HsdsPage = 1,
        per_page: HsdsPerPage = 50,
        taxonomy_term_id: str | None = None,
        organization_id: str | None = None,
        modified_after: datetime | None = None,
    ) -> ServicePage:
        return hsds.services(catalogue, search, page, per_page, taxonomy_term_id, organization_id, modified_after)

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

    @api.get("/taxonomy_terms", summary="The taxonomy terms (our categories and practice tracks)")
    def taxonomy_terms(page: HsdsPage = 1, per_page: HsdsPerPage = 50) -> TermPage:
        return hsds.term_page(page, per_page)

    @api.get("/taxonomy_terms/{term_id}", summary="One taxonomy term")
    def taxonomy_term(term_id: str) -> TaxonomyTerm:
        return hsds.term(term_id)

    return api
