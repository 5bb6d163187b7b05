"""The municipality profile: the one vocabulary every service validates against and shows.

A municipality adopts Vejviser by writing its own profile (a JSON file like
`shared/data/ringsted.json`) and pointing `MUNICIPALITY_PROFILE` at it. The profile names
the municipality and its programme, and gives each area, category, sector and target group
a stable code (stored and put in events) and a Danish label (shown to people), plus the
search synonyms of the municipality's own words. Nothing else in the code names a
municipality.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import cache, cached_property
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import Invalid

DEFAULT_PROFILE = Path(__file__).with_name("data") / "ringsted.json"
CODE_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"


class Term(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=CODE_PATTERN)
    label: str = Field(min_length=1)


class Area(Term):
    kind: str = "town"  # town | village | housing (a boligområde)
    lat: float | None = None
    lon: float | None = None
    postal_code: str = ""
    city: str = ""


class Category(Term):
    label_en: str = ""
    # Words in other directories' taxonomy terms that map to this category on HSDS import.
    keywords: tuple[str, ...] = ()


T = TypeVar("T", bound=Term)


class Vocabulary(Generic[T]):
    """One list of terms: look-up by code, Danish labels, and the check every input passes."""

    def __init__(self, name: str, terms: Iterable[T]) -> None:
        self.name = name
        self.terms: tuple[T, ...] = tuple(terms)
        self._by_code = {t.code: t for t in self.terms}
        self._by_label = {t.label.casefold(): t for t in self.terms}

    def __iter__(self) -> Iterator[T]:
        return iter(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def get(self, code: str) -> T:
        return self._by_code[code]

    def label(self, code: str) -> str:
        """The Danish label of `code`; an unknown code (old data, another profile) as it is."""
        term = self._by_code.get(code)
        return term.label if term is not None else code

    def check(self, value: str, field: str | None = None, *, exact: bool = False) -> str:
        """The code for `value` (a code, or a label in any case); else a 422 naming the codes.

        `exact` takes codes only: events carry codes, and an event that named a label would
        be stored as the code but travel on as posted, so consumers would count it apart."""
        where = field or self.name
        term = self._by_code.get(value)
        if term is None:
            term = self._by_label.get(value.strip().casefold())
            if term is not None and exact:
                raise Invalid(f"{where}: {value!r} is the label of {self.name} {term.code!r}; events carry the code")
        if term is None:
            raise Invalid(
                f"{where}: unknown {self.name} {value!r}; use one of {', '.join(self.codes)}",
                field=where,
                allowed=list(self.codes),
            )
        return term.code

    def check_all(self, values: Iterable[str], field: str | None = None, *, exact: bool = False) -> list[str]:
        return [self.check(v, field, exact=exact) for v in values]


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=CODE_PATTERN)
    municipality: str
    city: str
    region: str
    programme: str
    consent_purpose: str
    areas: tuple[Area, ...]
    categories: tuple[Category, ...]
    sectors: tuple[Term, ...]
    target_groups: tuple[Term, ...]
    # Groups of words that find each other in the catalogue's search (spiseklub ↔ madklub).
    synonyms: tuple[tuple[str, ...], ...] = ()
    # What guides train referrers in (a recorded training moves a referrer to "trained").
    training_topics: tuple[Term, ...] = ()
    # Whether referrers may ask the three-item UCLA loneliness scale (with the citizen's
    # consent, at the referral and at the 12-week follow-up). Never required to refer.
    loneliness_scale: bool = False
    # How long a citizen's data is kept after their last referral ended (or after registration,
    # if never referred); the referrals service's nightly retention job erases them then.
    retention_months_after_end: int = Field(default=12, ge=1, le=120)

    @model_validator(mode="after")
    def _unique_codes(self) -> Profile:
        for name in ("areas", "categories", "sectors", "target_groups", "training_topics"):
            codes = [t.code for t in getattr(self, name)]
            doubled = sorted({c for c in codes if codes.count(c) > 1})
            if doubled:
                raise ValueError(f"{name}: code(s) {', '.join(doubled)} appear more than once")
        return self

    @cached_property
    def area(self) -> Vocabulary[Area]:
        return Vocabulary("area", self.areas)

    @cached_property
    def category(self) -> Vocabulary[Category]:
        return Vocabulary("category", self.categories)

    @cached_property
    def sector(self) -> Vocabulary[Term]:
        return Vocabulary("sector", self.sectors)

    @cached_property
    def target_group(self) -> Vocabulary[Term]:
        return Vocabulary("target group", self.target_groups)

    @cached_property
    def training_topic(self) -> Vocabulary[Term]:
        return Vocabulary("training topic", self.training_topics)


def load_profile(path: str | Path) -> Profile:
    try:
        return Profile.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        raise SystemExit(f"MUNICIPALITY_PROFILE: cannot read {path}: {exc.strerror}") from None


@cache
def _cached(path: str) -> Profile:
    return load_profile(path)


def profile() -> Profile:
    """The profile in force: `MUNICIPALITY_PROFILE`, else Ringsted's (the reference municipality)."""
    return _cached(os.environ.get("MUNICIPALITY_PROFILE") or str(DEFAULT_PROFILE))
