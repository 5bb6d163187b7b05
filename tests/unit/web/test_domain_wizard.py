"""The referral wizard's steps and their validation (Danish messages tied to each field)."""

from __future__ import annotations

from datetime import date

from services.web import wizard
from shared.profile import profile

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
