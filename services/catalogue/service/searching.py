"""Finding communities: the search page, and the categories and areas with their counts."""

from __future__ import annotations

from collections import Counter

from services.catalogue.domain import check_area, page_count, term_id
from services.catalogue.search import Filters
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import pending_counts
from services.catalogue.views import AreaOut, CategoryOut, CommunityHit, CommunityPage
from shared.profile import profile


def area_codes(areas: list[str] | None) -> frozenset[str]:
    """The area filter as codes (a Danish label is accepted; an unknown area is refused)."""
    return frozenset(check_area(area, "area") for area in areas or ())


def search(catalogue: Catalogue, query: str, filters: Filters, page: int, per_page: int) -> CommunityPage:
    hits = catalogue.search_hits(query, filters)
    start = (page - 1) * per_page
    selected = hits[start : start + per_page]
    ids = [hit.document.id for hit in selected]
    pending = catalogue.runtime.read(lambda session: pending_counts(session, ids))
    items = []
    for hit in selected:
        summary = hit.document.summary
        if summary is None:  # every document the catalogue indexes carries its summary
            continue
        items.append(
            CommunityHit.model_construct(
                **{
                    **dict(summary),
                    "pending_referrals": pending.get(hit.document.id, 0),
                    "score": round(hit.score, 3),
                    "distance_km": round(hit.distance_km, 2) if hit.distance_km is not None else None,
                }
            )
        )
    total = len(hits)
    return CommunityPage(total=total, page=page, per_page=per_page, pages=page_count(total, per_page), items=items)


def _active_counts(catalogue: Catalogue) -> tuple[Counter[str], Counter[str]]:
    catalogue.sync_index()
    categories: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for document in catalogue.index.documents():
        if document.active:
            categories.update(document.categories)
            areas[document.area] += 1
    return categories, areas


def categories(catalogue: Catalogue) -> list[CategoryOut]:
    counts, _ = _active_counts(catalogue)
    return [
        CategoryOut(
            id=category.code,
            name_da=category.label,
            name_en=category.label_en,
            taxonomy_term_id=term_id(category.code),
            communities=counts[category.code],
        )
        for category in profile().category
    ]


def areas(catalogue: Catalogue) -> list[AreaOut]:
    _, counts = _active_counts(catalogue)
    return [
        AreaOut(code=area.code, label=area.label, kind=area.kind, communities=counts[area.code])
        for area in profile().area
    ]
