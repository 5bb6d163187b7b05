"""Danish free-text search over the communities, in memory.

Why in memory: the catalogue of a municipality is small (hundreds, at most a few thousand
communities), changes rarely and is read constantly. SQLite has no Danish stemming and
PostgreSQL's `danish` text search does not do prefix matching of compound words ("løb" must
find "løbeklub"), so one analyser in Python gives the same results on both databases and
answers in well under a millisecond per query. Each process keeps its own index and brings it
up to date from the database's revision counter before every search (see `service.py`), so
several workers or processes never serve a stale catalogue.

The words are analysed in `danish.py`. A query stem matches every indexed term that
*starts with* it, which is how compound words are found ("strikke" → stem "strik" →
"strikkeklub"). A query word's synonyms are looked for too, at a tenth of the weight, so a
community described with the very word asked for still ranks first.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.catalogue.danish import MIN_SYNONYM_PREFIX, index_terms, query_terms, synonyms_of, tail_terms
from services.catalogue.domain import distance_km
from services.catalogue.views import CommunityOut

# Field weights: a hit in the name counts most, then categories, then description and area.
BASE_WEIGHTS = {"name": 4.0, "category": 2.0, "area": 1.5, "description": 1.0}
# Danish compounds put the head last ("søndagsvandring", "kvindefodbold"): the tails of long
# words are indexed too, under "<field>~", at half the weight of a hit at the word's start.
WEIGHTS = {**BASE_WEIGHTS, **{f"{name}~": weight / 2 for name, weight in BASE_WEIGHTS.items()}}
EXACT_BONUS = 0.5
# A synonym's hit scores below any hit of the query's own word (the lowest weight is 0.5).
SYNONYM_FACTOR = 0.1


@dataclass
class Document:
    """What the index knows about one community: searchable text, filter facts, and the
    summary that a search result shows (so a search needs no database round trip per row)."""

    id: str
    name: str
    fields: dict[str, str]
    categories: frozenset[str]
    area: str
    kind: str
    organization_id: str
    accepts_special_needs: bool
    open_seats: bool
    weekdays: frozenset[str]
    lat: float | None
    lon: float | None
    active: bool
    modified_at: datetime | None
    summary: CommunityOut | None = None
    hsds_id: str = ""
    free: bool = False
    accompaniment_welcome: bool = True
    # The welcome contact's e-mail, lower-cased: how a contact logging in by mail finds
    # the communities they receive for.
    contact_email: str = ""


@dataclass(frozen=True)
class Filters:
    categories: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    kind: str | None = None
    open_seats: bool = False
    accepts_special_needs: bool | None = None
    free: bool = False
    accompaniment_welcome: bool = False
    weekday: str | None = None
    near: tuple[float, float] | None = None
    within_km: float = 5.0
    organization_id: str | None = None
    modified_after: datetime | None = None
    include_archived: bool = False
    contact_email: str | None = None  # lower-cased, exact


@dataclass(frozen=True)
class Hit:
    document: Document
    score: float
    distance_km: float | None


class SearchIndex:
    """Inverted index per field with a sorted vocabulary for prefix lookups."""

    def __init__(self) -> None:
        self.revision = 0
        self._docs: dict[str, Document] = {}
        self._dirty = True
        self._terms: dict[str, dict[str, set[str]]] = {}
        self._postings: dict[str, dict[str, set[str]]] = {f: {} for f in WEIGHTS}
        self._vocab: dict[str, list[str]] = {f: [] for f in WEIGHTS}
        self.lock = threading.RLock()

    def documents(self) -> Iterable[Document]:
        return self._docs.values()

    def upsert(self, doc: Document) -> None:
        terms = {name: index_terms(text) for name, text in doc.fields.items()}
        terms.update({f"{name}~": tail_terms(field_terms) for name, field_terms in list(terms.items())})
        with self.lock:
            self._unpost(doc.id)
            self._docs[doc.id] = doc
            self._terms[doc.id] = terms
            for name, field_terms in terms.items():
                postings = self._postings[name]
                for term in field_terms:
                    postings.setdefault(term, set()).add(doc.id)
            self._dirty = True

    def _unpost(self, doc_id: str) -> None:
        for name, field_terms in self._terms.pop(doc_id, {}).items():
            postings = self._postings[name]
            for term in field_terms:
                ids = postings.get(term)
                if ids is not None:
                    ids.discard(doc_id)
                    if not ids:
                        del postings[term]
                        self._dirty = True

    def _refresh_vocabulary(self) -> None:
        # Sorting the vocabulary (a few thousand terms) is the only non-incremental step; it
        # runs once after a batch of changes, at the next search.
        self._vocab = {f: sorted(p) for f, p in self._postings.items()}
        self._dirty = False

    def _matches(self, field_name: str, term: str) -> dict[str, float]:
        """Documents whose `field_name` has a term starting with `term`, with the hit's weight."""
        vocab = self._vocab[field_name]
        weight = WEIGHTS[field_name]
        found: dict[str, float] = {}
        if not term:
            return found
        start = bisect.bisect_left(vocab, term)
        for i in range(start, len(vocab)):
            indexed = vocab[i]
            if not indexed.startswith(term):
                break
            score = weight + (EXACT_BONUS if indexed == term else 0.0)
            for doc_id in self._postings[field_name][indexed]:
                if found.get(doc_id, 0.0) < score:
                    found[doc_id] = score
        return found

    def _synonym_matches(self, field_name: str, term: str) -> dict[str, float]:
        if len(term) >= MIN_SYNONYM_PREFIX:
            return self._matches(field_name, term)
        return dict.fromkeys(self._postings[field_name].get(term, ()), WEIGHTS[field_name] + EXACT_BONUS)

    def _term_scores(self, term: str) -> dict[str, float]:
        """The best score of each document for one query term: its own hits, else its synonyms'."""
        best: dict[str, float] = {}
        for synonym in synonyms_of(term):
            for field_name in WEIGHTS:
                for doc_id, score in self._synonym_matches(field_name, synonym).items():
                    if best.get(doc_id, 0.0) < score * SYNONYM_FACTOR:
                        best[doc_id] = score * SYNONYM_FACTOR
        for field_name in WEIGHTS:
            for doc_id, score in self._matches(field_name, term).items():
                if best.get(doc_id, 0.0) < score:
                    best[doc_id] = score
        return best

    def search(self, query: str, filters: Filters) -> list[Hit]:
        """Every matching document, best first: every query term must match some field."""
        with self.lock:
            if self._dirty:
                self._refresh_vocabulary()
            terms = query_terms(query)
            scores: dict[str, float] | None = None
            for term in terms:
                best = self._term_scores(term)
                scores = best if scores is None else {d: s + best[d] for d, s in scores.items() if d in best}
                if not scores:
                    return []
            candidates: Iterable[tuple[str, float]] = (
                scores.items() if scores is not None else ((doc_id, 0.0) for doc_id in self._docs)
            )
            hits = []
            for doc_id, score in candidates:
                doc = self._docs[doc_id]
                if not _passes(doc, filters):
                    continue
                distance = None
                if filters.near is not None:
                    if doc.lat is None or doc.lon is None:
                        continue
                    distance = distance_km(filters.near[0], filters.near[1], doc.lat, doc.lon)
                    if distance > filters.within_km:
                        continue
                hits.append(Hit(doc, score, distance))
        hits.sort(
            key=lambda h: (
                -h.score,
                not h.document.open_seats,
                h.distance_km if h.distance_km is not None else 0.0,
                h.document.name.lower(),
            )
        )
        return hits


def _passes(doc: Document, f: Filters) -> bool:
    if not doc.active and not f.include_archived:
        return False
    if f.categories and not (doc.categories & f.categories):
        return False
    if f.areas and doc.area not in f.areas:
        return False
    if f.kind is not None and doc.kind != f.kind:
        return False
    if f.open_seats and not doc.open_seats:
        return False
    if f.accepts_special_needs is not None and doc.accepts_special_needs != f.accepts_special_needs:
        return False
    if (f.free and not doc.free) or (f.accompaniment_welcome and not doc.accompaniment_welcome):
        return False
    if f.weekday is not None and f.weekday not in doc.weekdays:
        return False
    if f.organization_id is not None and doc.organization_id != f.organization_id:
        return False
    if f.contact_email is not None and doc.contact_email != f.contact_email:
        return False
    return not (f.modified_after is not None and (doc.modified_at is None or doc.modified_at < f.modified_after))
