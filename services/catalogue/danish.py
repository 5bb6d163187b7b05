"""Danish text analysis for the catalogue's search: words, stems, folded letters, synonyms.

Lower-case, split into words, Danish Snowball stem, then fold the letters so that "løb",
"lob" and "loeb" meet, and "Aa" spellings meet "å". Synonyms: the municipality profile names
groups of words people use for the same thing (spiseklub, madklub, fællesspisning); a query
word of a group also looks for the group's other words, analysed the same way.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache

import snowballstemmer

from shared.profile import profile

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# "gå-gruppe": a hyphenated compound is also one word ("gågruppe"), as a synonym may name it.
COMPOUND = re.compile(r"[^\W_]+(?:-[^\W_]+)+", re.UNICODE)
# Words that carry no meaning in a query ("fællesspisning i Benløse").
STOPWORDS = frozenset(
    [
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
    ]
)
# Shorter synonyms ("kor", "løb") must match a whole indexed term: as prefixes they would
# find "kortspil" and "løbehjul".
MIN_SYNONYM_PREFIX = 4
MIN_HEAD, MIN_TAIL = 3, 4

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


def compounds(text: str) -> list[str]:
    """The hyphenated compounds of `text`, joined ("gå-gruppe" → "gågruppe")."""
    return [match.replace("-", "") for match in COMPOUND.findall(unicodedata.normalize("NFC", text.lower()))]


def analysed(word: str) -> str:
    return fold(stem(word))


def index_terms(text: str) -> set[str]:
    """Terms a document is indexed under: the folded stem and the folded whole word, of every
    word and of every hyphenated compound."""
    terms: set[str] = set()
    for word in words(text) + compounds(text):
        terms.add(analysed(word))
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
    """The folded stems of a query, stopwords dropped, each once, in order. A hyphenated
    compound that is a synonym stays one term; any other is split into its words."""
    table = synonym_table()
    out: list[str] = []
    for token in unicodedata.normalize("NFC", text.lower()).split():
        joined = analysed(token.replace("-", "")) if "-" in token else None
        parts = [joined] if joined in table else [analysed(w) for w in words(token) if w not in STOPWORDS]
        for term in parts:
            if term and term not in out:
                out.append(term)
    return out


@cache
def synonym_table() -> dict[str, frozenset[str]]:
    """Each analysed word of the profile's synonym groups → the analysed words of its groups."""
    table: dict[str, set[str]] = {}
    for group in profile().synonyms:
        terms = {analysed(word.replace("-", "")) for word in group}
        for term in terms:
            table.setdefault(term, set()).update(terms)
    return {term: frozenset(group) for term, group in table.items()}


def synonyms_of(term: str) -> list[str]:
    """The other words of the groups `term` belongs to (or, from 4 letters, begins a word of),
    leaving out those the term already finds as a prefix."""
    table = synonym_table()
    found = set(table.get(term, ()))
    if len(term) >= MIN_SYNONYM_PREFIX:
        for word, group in table.items():  # a few dozen words: a scan is cheap enough
            if word.startswith(term):
                found |= group
    return sorted(other for other in found if not other.startswith(term))
