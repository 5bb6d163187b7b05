"""Danish free-text search over the communities, in memory.

Why in memory: the catalogue of a municipality is small (hundreds, at most a few thousand
communities), changes rarely and is read constantly. SQLite has no Danish stemming and
PostgreSQL's `danish` text search does not do prefix matching of compound words ("løb" must
find "løbeklub"), so one analyser in Python gives the same results on both databases and
answers in well under a millisecond per query. Each process keeps its own index and brings it
up to date from the database's revision counter before every search (see `service.py`), so
several workers or processes never serve a stale catalogue.

Analysis: lower-case, split into words, Danish Snowball stem, then fold the letters so that
"løb", "lob" and "loeb" meet, and "Aa" spellings meet "å". A query stem matches every indexed
term that *starts with* it, which is how compound words are found ("strikke" → stem "strik"
→ "strikkeklub").
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import snowballstemmer

from services.catalogue.domain import distance_km

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that carry no meaning in a query ("fællesspisning i Benløse").
STOPWORDS = frozenset(
    {
        "og",
        "i",
        "på",
        "for",
        "med",
        "til",
        "en",
        "et",
        "de",
        "der",
        "at",
        "af",
        "den",
        "det",
        "som",
        "er",
        "om",
        "fra",
        "eller",
        "vi",
        "jeg",
        "kan",
        "man",
        "har",
    }
)
# Field weights: a hit in the name counts most, then categories, then description and area.
BASE_WEIGHTS = {"name": 4.0, "category": 2.0, "area": 1.5, "description": 1.0}
# Danish compounds put the head last ("søndagsvandring", "kvindefodbold"): the tails of long
# words are indexed too, under "<field>~", at half the weight of a hit at the word's start.
WEIGHTS = {**BASE_WEIGHTS, **{f"{name}~": weight / 2 for name, weight in BASE_WEIGHTS.items()}}
MIN_HEAD, MIN_TAIL = 3, 4
EXACT_BONUS = 0.5

_stemmer_lock = threading.Lock()
_stemmer = snowballstemmer.stemmer("danish")


def fold(word: str) -> str:
    """Letters folded so that spellings without æ/ø/å, and 'aa' for 'å', still match."""
    word = word.replace("aa", "å").replace("oe", "ø").replace("ae", "æ")
    word = word.replace("æ", "ae").replace("ø", "o").replace("å", "a")
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    with _stemmer_lock:  # the Snowball stemmer object keeps state while it works
        return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFC", text.lower()))


def index_terms(text: str) -> set[str]:
    """Terms a document is indexed under: the folded stem and the folded whole word."""
    terms: set[str] = set()
    for word in words(text):
        terms.add(fold(stem(word)))
        terms.add(fold(word))
    return terms


def tail_terms(terms: set[str]) -> set[str]:
    """The possible compound heads of long terms ("sondagsvandring" → "vandring", "andring"…)."""
    tails: set[str] = set()
    for term in terms:
        for start in range(MIN_HEAD, len(term) - MIN_TAIL + 1):
            tails.add(term[start:])
    return tails


def query_terms(text: str) -> list[str]:
    """The folded stems of a query, stopwords dropped, each once, in order."""
    out: list[str] = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        term = fold(stem(word))
        if term and term not in out:
            out.append(term)
    return out


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
    modified_at: Any
    summary: dict[str, Any] = field(default_factory=dict)
    hsds_id: str = ""


@dataclass(frozen=True)
class Filters:
    categories: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    kind: str | None = None
    open_seats: bool = False
    accepts_special_needs: bool | None = None
    weekday: str | None = None
    near: tuple[float, float] | None = None
    within_km: float = 5.0
    organization_id: str | None = None
    modified_after: Any = None
    include_archived: bool = False


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

    def __len__(self) -> int:
        return len(self._docs)

    def get(self, doc_id: str) -> Document | None:
        return self._docs.get(doc_id)

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

    def remove(self, doc_id: str) -> None:
        with self.lock:
            self._unpost(doc_id)
            self._docs.pop(doc_id, None)

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

    def search(self, query: str, filters: Filters) -> list[Hit]:
        """Every matching document, best first: every query term must match some field."""
        with self.lock:
            if self._dirty:
                self._refresh_vocabulary()
            terms = query_terms(query)
            scores: dict[str, float] | None = None
            for term in terms:
                best: dict[str, float] = {}
                for field_name in WEIGHTS:
                    for doc_id, score in self._matches(field_name, term).items():
                        if best.get(doc_id, 0.0) < score:
                            best[doc_id] = score
                scores = best if scores is None else {d: s + best[d] for d, s in scores.items() if d in best}
                if not scores:
                    return []
            candidates: Iterable[tuple[str, float]] = (
                scores.items() if scores is not None else ((d, 0.0) for d in self._docs)
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
    if f.areas and doc.area.lower() not in f.areas:
        return False
    if f.kind is not None and doc.kind != f.kind:
        return False
    if f.open_seats and not doc.open_seats:
        return False
    if f.accepts_special_needs is not None and doc.accepts_special_needs != f.accepts_special_needs:
        return False
    if f.weekday is not None and f.weekday not in doc.weekdays:
        return False
    if f.organization_id is not None and doc.organization_id != f.organization_id:
        return False
    return not (f.modified_after is not None and doc.modified_at < f.modified_after)
