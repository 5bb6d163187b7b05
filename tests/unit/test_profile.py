"""The municipality profile: one vocabulary, codes stored, Danish labels shown, another
municipality by another file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.errors import Invalid
from shared.profile import DEFAULT_PROFILE, load_profile, profile


def test_the_default_profile_is_ringsteds_with_its_villages_and_housing_areas() -> None:
    ringsted = profile()
    labels = {area.label for area in ringsted.area}
    assert {"Ringsted midtby", "Ringsted Syd", "Benløse", "Jystrup", "Vetterslev", "Kværkeby"} <= labels
    assert {"Haraldsted", "Vigersted", "Gyrstinge", "Høm"} <= labels
    assert any(area.kind == "housing" for area in ringsted.area)
    assert ringsted.region == "Region Sjælland"


def test_a_code_or_a_label_in_any_case_gives_the_code() -> None:
    areas = profile().area
    assert areas.check("benloese") == "benloese"
    assert areas.check("  BENLØSE ") == "benloese"
    assert areas.label("benloese") == "Benløse"
    assert profile().sector.label("job_centre") == "Jobcenter"
    assert profile().target_group.label("unemployed") == "Ledige"


def test_an_unknown_term_is_refused_naming_the_field_and_every_allowed_code() -> None:
    with pytest.raises(Invalid) as refused:
        profile().area.check("Atlantis", "citizen.area")
    assert refused.value.status == 422
    assert refused.value.message.startswith("citizen.area: unknown area 'Atlantis'; use one of ")
    for code in profile().area.codes:
        assert code in refused.value.message
    assert refused.value.details["allowed"] == list(profile().area.codes)


def test_an_unknown_code_is_shown_as_it_is_rather_than_hidden() -> None:
    assert profile().sector.label("retired_sector") == "retired_sector"


def test_every_synonym_group_holds_the_seeds_words() -> None:
    groups = [set(group) for group in profile().synonyms]
    for words in ({"spiseklub", "madklub", "fællesspisning"}, {"gåtur", "gå-gruppe", "vandring"}):
        assert any(words <= group for group in groups), words
    assert any({"strik", "hækling", "håndarbejde"} <= group for group in groups)


def another_municipality(tmp_path: Path, **change: object) -> Path:
    data = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    data.update(
        code="soroe",
        municipality="Sorø Kommune",
        city="Sorø",
        programme="Fællesskab Sorø",
        areas=[{"code": "soroe_by", "label": "Sorø by"}, {"code": "dianalund", "label": "Dianalund"}],
    )
    data.update(change)
    path = tmp_path / "soroe.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_another_municipality_adopts_vejviser_by_pointing_at_its_own_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUNICIPALITY_PROFILE", str(another_municipality(tmp_path)))
    soroe = profile()
    assert soroe.municipality == "Sorø Kommune"
    assert soroe.area.codes == ("soroe_by", "dianalund")
    with pytest.raises(Invalid):
        soroe.area.check("benloese")
    monkeypatch.delenv("MUNICIPALITY_PROFILE")
    assert profile().code == "ringsted"


def test_a_profile_with_a_code_twice_is_refused_by_name(tmp_path: Path) -> None:
    doubled = [{"code": "x", "label": "X"}, {"code": "x", "label": "Y"}]
    with pytest.raises(ValidationError, match="areas: code\\(s\\) x appear more than once"):
        load_profile(another_municipality(tmp_path, areas=doubled))
