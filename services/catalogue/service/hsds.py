"""The public HSDS 3.0 reads: services, organisations and taxonomy terms, one page at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.catalogue import hsds
from services.catalogue.domain import category_by_term_id
from services.catalogue.hsds_models import (
    HsdsOrganization,
    HsdsService,
    OrganizationPage,
    ServicePage,
    TaxonomyTerm,
    TermPage,
)
from services.catalogue.search import Filters
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import (
    communities_by_id,
    communities_of,
    community_by_hsds_id,
    organization_by_hsds_id,
    organizations,
)
from shared.clock import COPENHAGEN
from shared.errors import NotFound


def _filters(
    session: Session, taxonomy_term_id: str | None, organization_id: str | None, modified_after: datetime | None
) -> Filters | None:
    """Our search filters for the HSDS query; None when it can match nothing."""
    categories: frozenset[str] = frozenset()
    kind = None
    if taxonomy_term_id is not None:
        category = category_by_term_id().get(taxonomy_term_id)
        if taxonomy_term_id == hsds.PRACTICE_TRACK_TERM_ID:
            kind = hsds.PRACTICE_TRACK_CODE
        elif category is None:
            return None
        else:
            categories = frozenset({category})
    ours = None
    if organization_id is not None:
        org = organization_by_hsds_id(session, organization_id)
        if org is None:
            return None
        ours = org.id
    if modified_after is not None and modified_after.tzinfo is None:
        modified_after = modified_after.replace(tzinfo=COPENHAGEN)
    return Filters(categories=categories, kind=kind, organization_id=ours, modified_after=modified_after)


def services(
    catalogue: Catalogue,
    search: str,
    page: int,
    per_page: int,
    taxonomy_term_id: str | None = None,
    organization_id: str | None = None,
    modified_after: datetime | None = None,
) -> ServicePage:
    filters = catalogue.runtime.read(
        lambda session: _filters(session, taxonomy_term_id, organization_id, modified_after)
    )
    hits = catalogue.search_hits(search, filters) if filters is not None else []
    start = (page - 1) * per_page
    ids = [hit.document.id for hit in hits[start : start + per_page]]

    def work(session: Session) -> ServicePage:
        rows = communities_by_id(session, ids)
        items = [hsds.service_brief(rows[i]) for i in ids if i in rows]
        return ServicePage(**hsds.page_fields(len(hits), len(items), page, per_page), contents=items)

    return catalogue.runtime.read(work)


def service(catalogue: Catalogue, service_id: str) -> HsdsService:
    def work(session: Session) -> HsdsService:
        community = community_by_hsds_id(session, service_id)
        if community is None:
            raise NotFound(f"no HSDS service with id {service_id!r}")
        return hsds.service_record(community)

    return catalogue.runtime.read(work)


def organization_page(catalogue: Catalogue, page: int, per_page: int, search: str = "") -> OrganizationPage:
    def work(session: Session) -> OrganizationPage:
        orgs = organizations(session, name_like=search)
        chosen = [hsds.organization_brief(org) for org in orgs[(page - 1) * per_page : page * per_page]]
        return OrganizationPage(**hsds.page_fields(len(orgs), len(chosen), page, per_page), contents=chosen)

    return catalogue.runtime.read(work)


def organization(catalogue: Catalogue, organization_id: str) -> HsdsOrganization:
    def work(session: Session) -> HsdsOrganization:
        org = organization_by_hsds_id(session, organization_id)
        if org is None:
            raise NotFound(f"no HSDS organization with id {organization_id!r}")
        return hsds.organization_record(org, communities_of(session, org.id, active_only=True))

    return catalogue.runtime.read(work)


def term_page(page: int, per_page: int) -> TermPage:
    terms = hsds.taxonomy_terms()
    chosen = terms[(page - 1) * per_page : page * per_page]
    return TermPage(**hsds.page_fields(len(terms), len(chosen), page, per_page), contents=chosen)


def term(term_id: str) -> TaxonomyTerm:
    for found in hsds.taxonomy_terms():
        if found.id == term_id:
            return found
    raise NotFound(f"no taxonomy term with id {term_id!r}")
