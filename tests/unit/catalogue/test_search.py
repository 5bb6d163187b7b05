"""Danish free-text search: stems, compounds, diacritics, every filter, ranking."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.catalogue.danish import fold, query_terms
from services.catalogue.domain import is_free
from services.catalogue.search import Document, Filters, SearchIndex
from shared.profile import profile


def doc(
    id: str,
    name: str,
    *,
    description: str = "",
    categories: tuple[str, ...] = ("social",),
    area: str = "ringsted_midtby",
    kind: str = "permanent",
    open_seats: bool = True,
    special: bool = False,
    weekdays: tuple[str, ...] = ("tue",),
    at: tuple[float, float] | None = (55.4428, 11.7905),
    org: str = "org-1",
    active: bool = True,
    modified: datetime | None = None,
) -> Document:
    return Document(
        id=id,
        name=name,
        fields={
            "name": name,
            "category": " ".join(categories),
            "area": profile().area.label(area),
            "description": description,
        },
        categories=frozenset(categories),
        area=area,
        kind=kind,
        organization_id=org,
        accepts_special_needs=special,
        open_seats=open_seats,
        weekdays=frozenset(weekdays),
        lat=at[0] if at else None,
        lon=at[1] if at else None,
        active=active,
        modified_at=modified or datetime(2025, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def index() -> SearchIndex:
    idx = SearchIndex()
    for d in [
        doc(
            "knit",
            "Strikkeklubben Maskerne",
            description="Vi strikker og hækler",
            categories=("creative",),
            special=True,
        ),
        doc(
            "run",
            "Ringsted Løbeklub",
            description="Motionsløb for alle",
            categories=("sport",),
            open_seats=False,
            weekdays=("mon",),
            area="benloese",
            at=(55.4622, 11.7731),
        ),
        doc(
            "walk",
            "Søndagsvandring i Jystrup",
            categories=("nature",),
            area="jystrup",
            weekdays=("sun",),
            at=(55.5139, 11.8853),
            org="org-2",
        ),
        doc(
            "dinner",
            "Fællesspisning i Benløse",
            description="Vi laver mad sammen",
            categories=("food",),
            area="benloese",
            kind="practice_track",
            weekdays=("wed",),
            at=None,
        ),
        doc("aa", "Åens venner", description="Naturpleje langs åen", categories=("nature",)),
        doc("knit2", "Kværkeby Strikkeklub", categories=("creative",), area="kvaerkeby", open_seats=False),
        doc("gone", "Strikkecafé (lukket)", categories=("creative",), active=False),
    ]:
        idx.upsert(d)
    return idx


def names(index: SearchIndex, query: str = "", **filters: object) -> list[str]:
    return [h.document.id for h in index.search(query, Filters(**filters))]  # type: ignore[arg-type]


def test_stems_prefixes_and_compounds(index: SearchIndex) -> None:
    assert names(index, "løb") == ["run"]
    assert names(index, "løbeklubben") == ["run"]
    assert names(index, "strikke") == ["knit", "knit2"]
    assert names(index, "strikkebog") == []  # a different word, not an inflection
    assert names(index, "vandring") == ["walk"]  # the head of a compound
    assert names(index, "spisning benløse") == ["dinner"]
    assert names(index, "mad") == ["dinner"]


def test_letters_without_diacritics_and_aa(index: SearchIndex) -> None:
    assert names(index, "lob") == ["run"]
    assert names(index, "loeb") == ["run"]
    assert names(index, "faellesspisning") == ["dinner"]
    assert names(index, "aaens") == ["aa"]
    assert names(index, "KVÆRKEBY") == ["knit2"]
    assert fold("fællesspisning") == fold("faellesspisning") == "faellesspisning"
    assert query_terms("Fællesspisning i Benløse") == [fold("fællesspisning"), "benlos"]


def test_every_filter(index: SearchIndex) -> None:
    assert set(names(index, categories=frozenset({"creative"}))) == {"knit", "knit2"}
    assert set(names(index, areas=frozenset({"benloese"}))) == {"run", "dinner"}
    assert names(index, kind="practice_track") == ["dinner"]
    assert "run" not in names(index, open_seats=True) and "knit" in names(index, open_seats=True)
    assert names(index, accepts_special_needs=True) == ["knit"]
    assert names(index, weekday="sun") == ["walk"]
    assert names(index, near=(55.5139, 11.8853), within_km=2) == ["walk"]
    assert names(index, organization_id="org-2") == ["walk"]
    assert names(index, modified_after=datetime(2026, 1, 1, tzinfo=UTC)) == []
    assert "gone" in names(index, "strikke", include_archived=True)


def test_ranking_name_before_description_and_open_seats_first(index: SearchIndex) -> None:
    index.upsert(doc("desc", "Onsdagsklubben", description="Vi går en tur og strikker bagefter"))
    ranked = names(index, "strikke")
    assert ranked.index("knit") < ranked.index("desc") and ranked.index("knit2") < ranked.index("desc")
    assert ranked[:2] == ["knit", "knit2"]  # equal name hits: open seats first
    everything = names(index)
    assert everything.index("knit") < everything.index("knit2")


def test_updates_and_removals_reach_the_index(index: SearchIndex) -> None:
    index.upsert(doc("run", "Ringsted Cykelklub", categories=("sport",)))
    assert names(index, "løb") == []
    assert names(index, "cykel") == ["run"]
    index.upsert(doc("run", "Ringsted Cykelklub", categories=("sport",), active=False))  # archived
    assert names(index, "cykel") == []


@pytest.mark.parametrize(
    ("described", "asked"),
    [
        ("Madklubben i Vestervang", "fællesspisning"),
        ("Vandring langs åen", "gåtur"),
        ("Strikkeklubben", "hækling"),
        ("Hækling for alle", "strikkeklub"),
        ("Gå-gruppen", "vandring"),
        ("Søndagsvandring", "gå-gruppe"),
    ],
)
def test_the_profiles_synonyms_find_each_other(described: str, asked: str) -> None:
    index = SearchIndex()
    index.upsert(doc("one", described, categories=("social",)))
    index.upsert(doc("other", "Brætspilsaften", categories=("social",)))
    assert names(index, asked) == ["one"]


def test_exact_words_rank_before_synonyms() -> None:
    index = SearchIndex()
    index.upsert(doc("synonym-in-name", "Fællesspisning i Benløse", area="benloese"))
    index.upsert(doc("word-in-description", "Torsdagsklubben", description="Vi har en madklub"))
    index.upsert(doc("word-in-name", "Madklubben"))
    ranked = names(index, "madklub")
    assert ranked == ["word-in-name", "word-in-description", "synonym-in-name"]


def test_short_synonyms_match_whole_words_only() -> None:
    index = SearchIndex()
    index.upsert(doc("choir", "Sangkoret"))
    index.upsert(doc("cards", "Kortklubben"))
    assert names(index, "fællessang") == ["choir"]  # kor → not "kort"


def test_free_and_companion_filters_keep_only_what_they_say() -> None:
    idx = SearchIndex()
    idx.upsert(replace(doc("free", "Gåklubben"), free=True, accompaniment_welcome=False))
    idx.upsert(replace(doc("paid", "Gåholdet"), free=False, accompaniment_welcome=True))
    assert [h.document.id for h in idx.search("gå", Filters(free=True))] == ["free"]
    assert [h.document.id for h in idx.search("gå", Filters(accompaniment_welcome=True))] == ["paid"]
    assert {h.document.id for h in idx.search("gå", Filters())} == {"free", "paid"}


@pytest.mark.parametrize(
    ("cost", "free"),
    [("Gratis", True), ("gratis, kaffe 10 kr.", True), ("0 kr.", True), ("0", True), ("Fri entré", True),
     ("150 kr. om året", False), ("", False), (None, False)],
)  # fmt: skip
def test_a_cost_says_free_only_when_it_does(cost: str | None, free: bool) -> None:
    assert is_free(cost) is free


def test_the_contact_email_filter_is_exact_on_the_lower_cased_address() -> None:
    idx = SearchIndex()
    idx.upsert(replace(doc("birthe", "Strikkeklubben"), contact_email="birthe@forening.dk"))
    idx.upsert(replace(doc("other", "Strikkecaféen"), contact_email="birthe@forening.dk.example"))
    idx.upsert(replace(doc("closed", "Strikkeholdet"), contact_email="birthe@forening.dk", active=False))
    assert [h.document.id for h in idx.search("", Filters(contact_email="birthe@forening.dk"))] == ["birthe"]
    assert idx.search("", Filters(contact_email="birthe@forening")) == []
