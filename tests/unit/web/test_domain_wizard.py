"""The referral wizard's steps and their validation (Danish messages tied to each field),
the optional loneliness questions (only where the profile has them, only with consent), the
citizen's choice to share first name and phone (and the note, only with consent on record), the
free text sealed in the draft, and what the "Tjek dine svar" page shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from services.web import wizard
from services.web.api.pages.wizard_views import check_rows
from services.web.drafts import Draft, DraftAnswers, DraftBox
from shared.profile import DEFAULT_PROFILE, profile

TODAY = date(2026, 12, 2)


def fields(errors: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in errors]


def test_a_registered_citizen_skips_consent_and_contact() -> None:
    assert [s.slug for s in wizard.steps_for({"citizen_mode": "new"})] == [
        "borger",
        "samtykke",
        "kontakt",
        "behov",
        "foelgeskab",
        "faellesskab",
        "ensomhed",
        "tjek",
    ]
    existing = {"citizen_mode": "existing"}
    assert wizard.next_slug(existing, "borger") == "behov"
    assert wizard.previous_slug(existing, "behov") == "borger"
    assert wizard.previous_slug(existing, "borger") is None


def test_first_unanswered() -> None:
    answers: dict[str, object] = {"citizen_mode": "existing", "done_borger": True, "done_behov": True}
    assert wizard.first_unanswered(answers) == "foelgeskab"
    answers |= {"done_foelgeskab": True, "done_faellesskab": True}
    assert wizard.first_unanswered(answers) == "ensomhed"
    answers |= {"done_ensomhed": True}
    assert wizard.first_unanswered(answers) is None


def test_citizen_step() -> None:
    assert fields(wizard.check_citizen({})[1]) == ["citizen_mode"]
    assert fields(wizard.check_citizen({"citizen_mode": "existing", "citizen_ref": "x"})[1]) == ["citizen_ref"]
    answers, errors = wizard.check_citizen({"citizen_mode": "existing", "citizen_ref": "C-1234abcd-0000"})
    assert not errors and answers["citizen_ref"] == "c-1234abcd-0000"


def test_consent_step() -> None:
    assert fields(wizard.check_consent({}, TODAY)[1]) == ["consent"]
    answers, errors = wizard.check_consent({"consent": "ja", "consent_date": ""}, TODAY)
    assert not errors and answers["consent_date"] == "2026-12-02"
    assert answers["consent_purpose"] == profile().consent_purpose
    assert (
        wizard.check_consent({"consent": "ja", "consent_date": "1.12.2026"}, TODAY)[0]["consent_date"] == "2026-12-01"
    )
    assert fields(wizard.check_consent({"consent": "ja", "consent_date": "3.12.2026"}, TODAY)[1]) == ["consent_date"]
    assert fields(wizard.check_consent({"consent": "ja", "consent_date": "i går"}, TODAY)[1]) == ["consent_date"]
    assert not wizard.check_consent({"consent": "nej"}, TODAY)[1]


def test_contact_step() -> None:
    assert fields(wizard.check_contact({})[1]) == ["contact_name", "contact_phone"]
    bad = wizard.check_contact({"contact_name": "Kim", "contact_phone": "abc", "contact_email": "kim@"})[1]
    assert fields(bad) == ["contact_phone", "contact_email"]
    assert not wizard.check_contact({"contact_name": "Kim", "contact_email": "kim@example.dk"})[1]


def test_free_text_refuses_cpr_numbers() -> None:
    errors = wizard.check_needs({"note": "CPR 010190-1234 vil gerne strikke"})[1]
    assert errors == [("note", "Skriv ikke CPR-nummer her")]


def test_accompaniment_step() -> None:
    companions = {"amb-lars": "Lars"}
    assert fields(wizard.check_accompaniment({}, companions)[1]) == ["accompaniment"]
    assert fields(wizard.check_accompaniment({"accompaniment": "named"}, companions)[1]) == ["companion_id"]
    answers, errors = wizard.check_accompaniment({"accompaniment": "named", "companion_id": "amb-lars"}, companions)
    assert not errors and answers["companion_name"] == "Lars"


def test_a_full_community_needs_an_override_and_a_reason() -> None:
    assert fields(wizard.check_community({"community_id": "x"}, found=False, full=False)[1]) == ["community_id"]
    assert not wizard.check_community({"community_id": "x"}, found=True, full=False)[1]
    refused = wizard.check_community({"community_id": "x"}, found=True, full=True)[1]
    assert fields(refused) == ["override_full", "override_reason"]
    form = {"community_id": "x", "override_full": "ja", "override_reason": "Aftalt med Birthe"}
    answers, errors = wizard.check_community(form, found=True, full=True)
    assert not errors and answers["override_full"] is True
    assert "Aftalt med Birthe" in wizard.referral_note({"note": "Strik", **answers})


@pytest.fixture
def without_loneliness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A municipality whose profile does not ask the loneliness questions."""
    data = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8")) | {"loneliness_scale": False}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("MUNICIPALITY_PROFILE", str(path))
    yield


def test_the_loneliness_step_only_where_the_profile_has_it(without_loneliness: None) -> None:
    assert not profile().loneliness_scale
    assert "ensomhed" not in [step.slug for step in wizard.steps_for({"citizen_mode": "new"})]
    assert not wizard.asks({}, "ensomhed")
    assert wizard.next_slug({}, "faellesskab") == "tjek"
    # answers left in a draft from before are never sent
    given = {"loneliness_consent": "ja", "ucla_1": "1", "ucla_2": "2", "ucla_3": "3"}
    assert wizard.loneliness_answers(given) is None


def test_loneliness_answers_need_the_citizens_yes() -> None:
    assert wizard.asks({}, "ensomhed") and wizard.next_slug({}, "faellesskab") == "ensomhed"
    answered = {"ucla_1": "3", "ucla_2": "2", "ucla_3": "1"}
    # answers without the citizen's "ja" are refused, with the choice to make
    answers, errors = wizard.check_loneliness(answered)
    assert fields(errors) == ["loneliness_consent"] and "Borgeren vil gerne svare" in errors[0][1]
    assert wizard.loneliness_answers(answers) is None
    # "ja" with a missing answer names the question
    answers, errors = wizard.check_loneliness({"loneliness_consent": "ja", "ucla_1": "3", "ucla_3": "4"})
    assert errors == [("ucla_2", "Vælg et svar på spørgsmål 2"), ("ucla_3", "Vælg et svar på spørgsmål 3")]
    answers, errors = wizard.check_loneliness({"loneliness_consent": "ja", **answered})
    assert not errors and wizard.loneliness_answers(answers) == [3, 2, 1]


def test_skipping_the_loneliness_questions_never_blocks() -> None:
    for form in ({}, {"loneliness_consent": "nej"}, {"spring_over": "ja", "ucla_1": "3"}):
        answers, errors = wizard.check_loneliness(form)
        assert not errors and answers["loneliness_consent"] == "nej"
        assert wizard.loneliness_answers(answers) is None
    assert [word for _, word in wizard.UCLA_ANSWERS] == ["Sjældent eller aldrig", "En gang imellem", "Ofte"]
    assert len(wizard.UCLA_QUESTIONS) == 3


def test_the_loneliness_answers_are_sealed_in_the_draft() -> None:
    box = DraftBox("a-secret")
    plain, sealed = box.seal({"area": "x", "loneliness_consent": "ja", "ucla_1": "3", "contact_name": "Kim"})
    assert plain == {"area": "x", "loneliness_consent": "ja"} and sealed is not None
    assert json.loads(box.cipher.decrypt(sealed)) == {"contact_name": "Kim", "ucla_1": "3"}


def test_the_note_and_the_override_reason_are_sealed_in_the_draft() -> None:
    box = DraftBox("a-secret")
    note, reason = "Kim har svært ved store grupper efter en depression", "Lederen kender Kim fra før"
    answers = {"note": note, "override_reason": reason, "share_note": True, "override_full": True}
    plain, sealed = box.seal(answers)
    assert plain == {"share_note": True, "override_full": True} and sealed is not None
    assert note.encode() not in sealed and b"depression" not in sealed and reason.encode() not in sealed
    row = Draft(draft_id="d", session_hash="s", actor_id="a", answers=plain, contact_ciphertext=sealed)
    assert box.open(row).answers == answers


def test_sharing_the_note_is_asked_only_with_consent_on_record() -> None:
    new_with_consent = {"citizen_mode": "new", "consent": "ja"}
    registered_with_consent = {"citizen_mode": "existing", "consent_on_record": True}
    registered_without = {"citizen_mode": "existing", "consent_on_record": False}
    assert wizard.offers_note_sharing(new_with_consent) and wizard.offers_note_sharing(registered_with_consent)
    assert not wizard.offers_note_sharing(registered_without)
    # a registered citizen's consent is what the record says, not a "ja" left from a new citizen
    assert not wizard.offers_note_sharing({"citizen_mode": "existing", "consent": "ja"})
    needs = {"note": "Vil gerne strikke", "share_note": "ja"}
    assert wizard.check_needs(needs, offers_sharing=True)[0]["share_note"] is True
    assert wizard.check_needs({"note": "Vil gerne strikke"}, offers_sharing=True)[0]["share_note"] is False
    # the choice is not on the page without consent: a posted "ja" is not taken
    assert wizard.check_needs(needs, offers_sharing=False)[0]["share_note"] is False
    assert wizard.shares_note(new_with_consent | {"share_note": True})
    assert not wizard.shares_note(registered_without | {"share_note": True})
    assert not wizard.shares_note(new_with_consent | {"share_note": False})


def test_check_rows_show_the_note_sharing_choice() -> None:
    def shown(answers: dict[str, object]) -> str:
        rows = {row.label: row for row in check_rows(DraftAnswers("d", answers))}
        assert rows["Fællesskab og følgeven må se noten"].slug == "behov"
        return rows["Fællesskab og følgeven må se noten"].value

    new = {"citizen_mode": "new", "consent": "ja", "note": "Strik"}
    assert shown(new | {"share_note": True}) == "Ja, med borgerens samtykke"
    assert shown(new | {"share_note": False}) == "Nej"
    assert shown({"citizen_mode": "existing", "share_note": True}) == "Nej (kræver borgerens samtykke)"


def test_sharing_first_name_and_phone_is_the_citizens_choice() -> None:
    form = {"contact_name": "Kim Hansen", "contact_phone": "12345678"}
    assert wizard.check_contact(form)[0]["share_contact"] is False
    assert wizard.check_contact(form | {"share_contact": "ja"})[0]["share_contact"] is True
    # a registered citizen is asked on the needs step instead; a new one is not asked twice
    needs = {"note": "Vil gerne strikke", "share_contact": "ja"}
    assert wizard.check_needs(needs, existing=True)[0]["share_contact"] is True
    assert "share_contact" not in wizard.check_needs(needs)[0]


def test_check_rows_show_sharing_and_loneliness() -> None:
    answers: dict[str, object] = {
        "citizen_mode": "new",
        "consent_date": "2026-12-02",
        "contact_name": "Kim",
        "share_contact": True,
        "loneliness_consent": "ja",
        "ucla_1": "1",
        "ucla_2": "2",
        "ucla_3": "3",
    }
    rows = {row.label: row.value for row in check_rows(DraftAnswers("d", answers))}
    assert rows["Fællesskab og følgeperson må se fornavn og telefon"] == "Ja"
    assert rows["Spørgsmål om ensomhed"] == (
        "Besvaret med borgerens samtykke: sjældent eller aldrig, en gang imellem, ofte"
    )
    skipped = {row.label: row.value for row in check_rows(DraftAnswers("d", {"loneliness_consent": "nej"}))}
    assert skipped["Spørgsmål om ensomhed"] == "Ikke besvaret"
