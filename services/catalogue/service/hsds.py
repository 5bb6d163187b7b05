"""The public HSDS 3.0 reads: services, services at locations, organisations, taxonomies and
taxonomy terms, one page at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from services.catalogue import hsds, hsds_taxonomy
from services.catalogue.domain import category_by_term_id
from services.catalogue.hsds_models import (
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
from services.catalogue.search import Filters
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import (
    Community,
    communities_by_id,
    communities_of,
    community_by_hsds_id,
    community_ids,
    organization_by_hsds_id,
    organizations,
)
from shared.clock import COPENHAGEN
from shared.errors import NotFound

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceQuery:
    """What a list of services (or of services at locations) is asked for, as the HSDS API
    reference names it."""

    search: str = ""
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None


@dataclass(frozen=True)
class _Terms:
    """The communities carrying a term: any of `categories` (None: any), of `kind` (None: any)."""

    categories: frozenset[str] | None = None
    kind: str | None = None

    def both(self, other: _Terms) -> _Terms | None:
        """Communities matching this and `other`; None when none can."""
        categories = self.categories
        if other.categories is not None:
            categories = other.categories if categories is None else categories & other.categories
        if categories is not None and not categories:
            return None
        if self.kind is not None and other.kind is not None and self.kind != other.kind:
            return None
        return _Terms(categories, self.kind or other.kind)


def _carrying(term_ids: set[str]) -> _Terms | None:
    """The communities carrying any of our terms in `term_ids`; None when no term is ours.
    (Asked for one term or one taxonomy's terms: our taxonomies never mix categories with the
    practice track, so "any of" is a condition on one field.)"""
    categories = frozenset(code for found, code in category_by_term_id().items() if found in term_ids)
    if categories:
        return _Terms(categories=categories)
    if hsds_taxonomy.PRACTICE_TRACK_TERM_ID in term_ids:
        return _Terms(kind=hsds_taxonomy.PRACTICE_TRACK_CODE)
    return None


def _filters(session: Session, query: ServiceQuery) -> Filters | None:
    """Our search filters for the HSDS query; None when it can match nothing."""
    terms: _Terms | None = _Terms()
    if query.taxonomy_term_id is not None:
        terms = _carrying({query.taxonomy_term_id.lower()})
    if terms is not None and query.taxonomy_id is not None:
        wanted = query.taxonomy_id.lower()
        of_taxonomy = _carrying({term.id for term in hsds_taxonomy.taxonomy_terms() if term.taxonomy_id == wanted})
        terms = terms.both(of_taxonomy) if of_taxonomy is not None else None
    if terms is None:
        return None
    ours = None
    if query.organization_id is not None:
        org = organization_by_hsds_id(session, query.organization_id)
        if org is None:
            return None
        ours = org.id
    modified_after = query.modified_after
    if modified_after is not None and modified_after.tzinfo is None:
        modified_after = modified_after.replace(tzinfo=COPENHAGEN)
    return Filters(
        categories=terms.categories or frozenset(),
        kind=terms.kind,
        organization_id=ours,
        modified_after=modified_after,
    )


def _matching(
    catalogue: Catalogue, query: ServiceQuery, page: int, per_page: int, record: Callable[[Community], T]
) -> tuple[int, list[T]]:
    """How many active communities match, and the records of those on the page (best first)."""
    filters = catalogue.runtime.read(lambda session: _filters(session, query))
    hits = catalogue.search_hits(query.search, filters) if filters is not None else []
    ids = [hit.document.id for hit in hits[(page - 1) * per_page : page * per_page]]

    def work(session: Session) -> list[T]:
        rows = communities_by_id(session, ids)
        return [record(rows[i]) for i in ids if i in rows]

    return len(hits), catalogue.runtime.read(work)


def services(catalogue: Catalogue, query: ServiceQuery, page: int, per_page: int) -> ServicePage:
    total, items = _matching(catalogue, query, page, per_page, hsds.service_brief)
    return ServicePage(**hsds.page_fields(total, len(items), page, per_page), contents=items)


def service(catalogue: Catalogue, service_id: str) -> HsdsService:
    def work(session: Session) -> HsdsService:
        community = community_by_hsds_id(session, service_id)
        if community is None:
            raise NotFound(f"no HSDS service with id {service_id!r}")
        return hsds.service_record(community)

    return catalogue.runtime.read(work)


def service_at_location_page(
    catalogue: Catalogue, query: ServiceQuery, page: int, per_page: int
) -> ServiceAtLocationPage:
    total, items = _matching(catalogue, query, page, per_page, hsds.service_at_location_brief)
    return ServiceAtLocationPage(**hsds.page_fields(total, len(items), page, per_page), contents=items)


def service_at_location(catalogue: Catalogue, service_at_location_id: str) -> HsdsServiceAtLocation:
    wanted = service_at_location_id.lower()

    def work(session: Session) -> HsdsServiceAtLocation:
        # The id is a uuid5 of the community id and cannot be reversed; deriving it for every
        # community is cheaper than one more column, as a municipality's catalogue is small.
        for community_id in community_ids(session):
            if hsds.service_at_location_id(community_id) == wanted:
                return hsds.service_at_location_record(communities_by_id(session, [community_id])[community_id])
        raise NotFound(f"no HSDS service at location with id {service_at_location_id!r}")

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


def _searched(records: Sequence[T], search: str, words: Callable[[T], Sequence[str]]) -> list[T]:
    """The records whose words contain `search` (any case); all of them for an empty one."""
    wanted = search.strip().casefold()
    return [record for record in records if any(wanted in word.casefold() for word in words(record))]


def term_page(page: int, per_page: int, search: str = "", taxonomy_id: str | None = None) -> TermPage:
    terms = hsds_taxonomy.taxonomy_terms()
    if taxonomy_id is not None:
        terms = [term for term in terms if term.taxonomy_id == taxonomy_id.lower()]
    terms = _searched(terms, search, lambda term: (term.code, term.name, term.description))
    chosen = terms[(page - 1) * per_page : page * per_page]
    return TermPage(**hsds.page_fields(len(terms), len(chosen), page, per_page), contents=chosen)


def term(term_id: str) -> TaxonomyTerm:
    for found in hsds_taxonomy.taxonomy_terms():
        if found.id == term_id.lower():
            return found
    raise NotFound(f"no taxonomy term with id {term_id!r}")


def taxonomy_page(base_url: str, page: int, per_page: int, search: str = "") -> TaxonomyPage:
    found = _searched(
        hsds_taxonomy.taxonomies(base_url), search, lambda taxonomy: (taxonomy.name, taxonomy.description)
    )
    chosen = found[(page - 1) * per_page : page * per_page]
    return TaxonomyPage(**hsds.page_fields(len(found), len(chosen), page, per_page), contents=chosen)


def taxonomy(base_url: str, taxonomy_id: str) -> Taxonomy:
    for found in hsds_taxonomy.taxonomies(base_url):
        if found.id == taxonomy_id.lower():
            return found
    raise NotFound(f"no taxonomy with id {taxonomy_id!r}")
