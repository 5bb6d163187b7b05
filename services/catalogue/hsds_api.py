"""The public HSDS 3.0 API (`/hsds`, no token, rate-limited) and the admin's HSDS import."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import ValidationError
from sqlalchemy import select

from services.catalogue import hsds
from services.catalogue.domain import CATEGORY_BY_TERM_ID, LOCAL_TZ
from services.catalogue.hsds_import import RecordRejected, RecordResult, import_record, reason_for
from services.catalogue.ratelimit import TokenBucket
from services.catalogue.search import Filters
from services.catalogue.service import Catalogue
from services.catalogue.store import Community, Organization, community_by_hsds_id, organization_by_hsds_id
from shared.auth import Principal, Role, require
from shared.errors import DomainError, Invalid, NotFound


def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
HsdsPage = Annotated[int, Query(ge=1, le=100_000)]
HsdsPerPage = Annotated[int, Query(ge=1, le=200)]


def _rate_limit(bucket: TokenBucket) -> Any:
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
    api = APIRouter(prefix="/hsds", tags=["HSDS 3.0 (public)"], dependencies=[Depends(_rate_limit(bucket))])

    @api.get("/", summary="About this HSDS API")
    def meta() -> dict[str, Any]:
        return {"version": hsds.HSDS_VERSION, "profile": hsds.PROFILE_URL, "openapi_url": openapi_url}

    @api.get("/services", summary="Services (communities), one page")
    def services(
        catalogue: CatalogueDep,
        search: Annotated[str, Query(max_length=200)] = "",
        page: HsdsPage = 1,
        per_page: HsdsPerPage = 50,
        taxonomy_term_id: str | None = None,
        organization_id: str | None = None,
        modified_after: datetime | None = None,
    ) -> dict[str, Any]:
        categories: frozenset[str] = frozenset()
        kind = None
        if taxonomy_term_id is not None:
            if taxonomy_term_id == hsds.PRACTICE_TRACK_TERM_ID:
                kind = "practice_track"
            elif taxonomy_term_id in CATEGORY_BY_TERM_ID:
                categories = frozenset({CATEGORY_BY_TERM_ID[taxonomy_term_id].id})
            else:
                return hsds.page([], 0, page, per_page)
        our_org = None
        if organization_id is not None:
            with catalogue.db.read() as session:
                org = organization_by_hsds_id(session, organization_id)
            if org is None:
                return hsds.page([], 0, page, per_page)
            our_org = org.id
        if modified_after is not None and modified_after.tzinfo is None:
            modified_after = modified_after.replace(tzinfo=LOCAL_TZ)
        filters = Filters(categories=categories, kind=kind, organization_id=our_org, modified_after=modified_after)
        hits = catalogue.search_hits(search, filters)
        start = (page - 1) * per_page
        ids = [h.document.id for h in hits[start : start + per_page]]
        with catalogue.db.read() as session:
            rows = {c.id: c for c in session.scalars(select(Community).where(Community.id.in_(ids)))}
            items = [hsds.service_brief(rows[i]) for i in ids if i in rows]
        return hsds.page(items, len(hits), page, per_page)

    @api.get("/services/{service_id}", summary="One fully nested service")
    def service(service_id: str, catalogue: CatalogueDep) -> dict[str, Any]:
        with catalogue.db.read() as session:
            community = community_by_hsds_id(session, service_id)
            if community is None:
                raise NotFound(f"no HSDS service with id {service_id!r}")
            return hsds.service_record(community)

    @api.get("/organizations", summary="Organisations, one page")
    def organizations(
        catalogue: CatalogueDep,
        page: HsdsPage = 1,
        per_page: HsdsPerPage = 50,
        search: Annotated[str, Query(max_length=200)] = "",
    ) -> dict[str, Any]:
        with catalogue.db.read() as session:
            query = select(Organization).where(Organization.archived_at.is_(None)).order_by(Organization.name)
            if search:
                query = query.where(Organization.name.ilike(f"%{search}%"))
            orgs = list(session.scalars(query))
            chosen = orgs[(page - 1) * per_page : page * per_page]
            return hsds.page([hsds.organization_brief(o) for o in chosen], len(orgs), page, per_page)

    @api.get("/organizations/{organization_id}", summary="One organisation with its services")
    def organization(organization_id: str, catalogue: CatalogueDep) -> dict[str, Any]:
        with catalogue.db.read() as session:
            org = organization_by_hsds_id(session, organization_id)
            if org is None:
                raise NotFound(f"no HSDS organization with id {organization_id!r}")
            services = list(
                session.scalars(
                    select(Community)
                    .where(Community.organization_id == org.id, Community.archived_at.is_(None))
                    .order_by(Community.name)
                )
            )
            return hsds.organization_record(org, services)

    @api.get("/taxonomy_terms", summary="The taxonomy terms (our categories and practice tracks)")
    def taxonomy_terms(page: HsdsPage = 1, per_page: HsdsPerPage = 50) -> dict[str, Any]:
        terms = hsds.taxonomy_terms()
        return hsds.page(terms[(page - 1) * per_page : page * per_page], len(terms), page, per_page)

    @api.get("/taxonomy_terms/{term_id}", summary="One taxonomy term")
    def taxonomy_term(term_id: str) -> dict[str, Any]:
        for term in hsds.taxonomy_terms():
            if term["id"] == term_id:
                return term
        raise NotFound(f"no taxonomy term with id {term_id!r}")

    return api


def import_services(catalogue: Catalogue, records: list[Any]) -> list[RecordResult]:
    """Every record in its own savepoint; one commit for the good ones."""
    results: list[RecordResult] = []
    now = catalogue.clock()
    runtime = catalogue.runtime
    with runtime.db.transaction() as session:
        for index, raw in enumerate(records):
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            try:
                with session.begin_nested():
                    result, events = import_record(session, raw, now)
                    if events:
                        runtime.stage(session, *events, time=now)
            except (RecordRejected, DomainError, ValidationError, ValueError) as exc:
                results.append(
                    RecordResult(
                        index=index,
                        id=raw_id if isinstance(raw_id, str) else None,
                        status="rejected",
                        reason=reason_for(exc),
                    )
                )
                continue
            results.append(result.model_copy(update={"index": index}))
    runtime.committed()
    return results


def import_router() -> APIRouter:
    api = APIRouter(prefix="/v1/hsds", tags=["HSDS 3.0 import"])

    @api.post("/import", summary="Import another directory's HSDS 3.0 services (per-record results)")
    async def post_import(
        _: Annotated[Principal, Depends(require(Role.admin))],
        catalogue: CatalogueDep,
        body: Annotated[Any, Body(description='a list of HSDS services, or {"services": [...]}, or one service')],
    ) -> dict[str, Any]:
        records = body.get("services", [body]) if isinstance(body, dict) else body
        if not isinstance(records, list) or not records:
            raise Invalid('send a JSON list of HSDS services (or {"services": [...]})', field="body")
        if len(records) > 5000:
            raise Invalid("at most 5000 services per import; split the file", field="body")
        results = await asyncio.to_thread(import_services, catalogue, records)
        counts = {s: sum(r.status == s for r in results) for s in ("created", "updated", "unchanged", "rejected")}
        return {**counts, "results": [r.model_dump() for r in results]}

    return api
