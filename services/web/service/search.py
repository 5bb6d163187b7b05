"""Finding communities: the search form (free text and removable filters, as the catalogue's
search supports them), its results, a community's card, and the printed hand-out recorded
as outreach."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.answers import AREAS, CATEGORIES, Area, Category, Community, CommunityPage
from shared.danish import WEEKDAYS
from shared.profile import profile

PER_PAGE = 20
# Nearest-first searches look this far around the chosen area's centre.
NEAR_KM = 50.0


@dataclass(frozen=True)
class Chip:
    """A filter in use, with the link that removes it."""

    label: str
    href: str


@dataclass(frozen=True)
class Flag:
    """A yes/no filter: the form's field, its name in the address, its words, and what it
    asks the catalogue for."""

    field: str
    name: str
    label: str
    api: tuple[str, str | bool]


FLAGS = (
    Flag("open_seats", "ledige", "Kun med ledige pladser", ("open_seats", True)),
    Flag("free", "gratis", "Gratis", ("free", True)),
    Flag("companion", "foelgeskab", "Man må tage en følgeperson med", ("accompaniment_welcome", True)),
    Flag("special_needs", "saerlige_hensyn", "Tager særlige hensyn", ("accepts_special_needs", True)),
    Flag("practice_track", "oevespor", "Øvespor (tidsbegrænset)", ("kind", "practice_track")),
)


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    categories: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    weekday: str = ""
    special_needs: bool = False
    practice_track: bool = False
    open_seats: bool = False
    free: bool = False
    companion: bool = False
    near: str = ""  # an area code: nearest first
    page: int = 1

    def on(self, flag: Flag) -> bool:
        return bool(getattr(self, flag.field))

    def without(self, flag: Flag) -> SearchForm:
        return SearchForm(**{**vars(self), flag.field: False, "page": 1})

    @classmethod
    def parse(cls, params: Mapping[str, Sequence[str]]) -> SearchForm:
        """From the query string; unknown codes are dropped rather than refused (it is a search)."""

        def one(name: str) -> str:
            values = params.get(name) or [""]
            return values[0].strip()[:200]

        codes = profile()
        page = one("side")
        return cls(
            q=one("q"),
            categories=tuple(c for c in params.get("kategori", []) if c in codes.category.codes),
            areas=tuple(a for a in params.get("omraade", []) if a in codes.area.codes),
            weekday=one("ugedag") if one("ugedag") in WEEKDAYS else "",
            **{flag.field: one(flag.name) == "ja" for flag in FLAGS},
            near=one("naer") if one("naer") in codes.area.codes else "",
            page=min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1,
        )

    def pairs(self) -> list[tuple[str, str]]:
        """The form as query-string pairs (what `parse` reads back)."""
        pairs = [("q", self.q)] if self.q else []
        pairs += [("kategori", code) for code in self.categories] + [("omraade", code) for code in self.areas]
        pairs += [(flag.name, "ja") for flag in FLAGS if self.on(flag)]
        pairs += [(name, value) for name, value in (("ugedag", self.weekday), ("naer", self.near)) if value]
        return pairs + ([("side", str(self.page))] if self.page > 1 else [])

    def href(self) -> str:
        query = urlencode(self.pairs())
        return "/soeg" + (f"?{query}" if query else "")

    def page_href(self, page: int) -> str:
        return replace(self, page=page).href()

    def api_params(self) -> dict[str, str | int | bool | list[str]]:
        params: dict[str, str | int | bool | list[str]] = {"page": self.page, "per_page": PER_PAGE, "q": self.q}
        if self.categories:
            params["category"] = list(self.categories)
        if self.areas:
            params["area"] = list(self.areas)
        if self.weekday:
            params["weekday"] = self.weekday
        params.update(flag.api for flag in FLAGS if self.on(flag))
        place = profile().area.get(self.near) if self.near else None
        if place is not None and place.lat is not None and place.lon is not None:
            params.update(lat=str(place.lat), lon=str(place.lon), within_km=str(NEAR_KM))
        return params

    def chips(self) -> list[Chip]:
        codes = profile()
        chips = [Chip(f"Søgeord: {self.q}", replace(self, q="", page=1).href())] if self.q else []
        for code in self.categories:
            rest = tuple(c for c in self.categories if c != code)
            chips.append(Chip(f"Kategori: {codes.category.label(code)}", replace(self, categories=rest, page=1).href()))
        for code in self.areas:
            rest = tuple(a for a in self.areas if a != code)
            chips.append(Chip(f"Område: {codes.area.label(code)}", replace(self, areas=rest, page=1).href()))
        if self.weekday:
            chips.append(Chip(f"Ugedag: {WEEKDAYS[self.weekday]}", replace(self, weekday="", page=1).href()))
        chips += [Chip(flag.label, self.without(flag).href()) for flag in FLAGS if self.on(flag)]
        if self.near:
            chips.append(Chip(f"Nærmest {codes.area.label(self.near)}", replace(self, near="", page=1).href()))
        return chips


@dataclass(frozen=True)
class SearchResult:
    form: SearchForm
    page: CommunityPage
    categories: list[Category]
    areas: list[Area]

    @property
    def count_text(self) -> str:
        total = self.page.total
        if total == 0:
            return "Ingen fællesskaber fundet"
        found = "1 fællesskab fundet" if total == 1 else f"{total} fællesskaber fundet"
        if self.page.pages > 1:
            found += f", side {self.page.page} af {self.page.pages}"
        return found


def search(pages: Pages, user: WebUser, form: SearchForm) -> SearchResult:
    catalogue = pages.catalogue
    found = catalogue.get(user, "/v1/communities", CommunityPage, params=form.api_params())
    categories = catalogue.get_list(user, "/v1/categories", CATEGORIES)
    areas = catalogue.get_list(user, "/v1/areas", AREAS)
    return SearchResult(form, found, categories, areas)


def community(pages: Pages, user: WebUser, community_id: str) -> Community:
    return pages.catalogue.get(user, f"/v1/communities/{community_id}", Community)


def record_handout(pages: Pages, user: WebUser, card: Community) -> None:
    """A printed card handed to a citizen counts as outreach (the seed's postcard lever)."""
    pages.referrals.call(
        user, "POST", "/v1/outreach", json={"kind": "postcards", "count": 1, "area": card.location.area}
    )
