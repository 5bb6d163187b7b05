"""The contact person's consent and who may change their details (pure rules)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.catalogue.domain import ContactPerson, check_contact_editor, consented
from services.catalogue.schemas import ContactIn, ContactUpdate
from shared.errors import Forbidden
from shared.principal import Principal, Role

BIRTHE = ContactPerson("Birthe Holm", "birthe@maskerne.example.dk", "+45 20 11 22 33", public=True)


def test_an_answer_given_is_the_persons_own() -> None:
    assert consented(BIRTHE, ContactPerson("Birthe Holm", "birthe@maskerne.example.dk"), False) is False
    assert consented(ContactPerson(), ContactPerson("Jonas Kragh"), True) is True


def test_without_an_answer_consent_stays_with_the_same_person_only() -> None:
    corrected_phone = ContactPerson("Birthe Holm", "BIRTHE@maskerne.example.dk", "+45 99 88 77 66")
    assert consented(BIRTHE, corrected_phone, None) is True
    assert consented(BIRTHE, ContactPerson("Jonas Kragh", "jonas@loeb.example.dk"), None) is False
    assert consented(BIRTHE, ContactPerson("Birthe Holm", "birthe@other.example.dk"), None) is False
    not_public = ContactPerson("Birthe Holm", "birthe@maskerne.example.dk")
    assert consented(not_public, not_public, None) is False


def test_nobody_is_public_where_there_is_no_contact_person() -> None:
    assert consented(BIRTHE, ContactPerson(), True) is False
    assert ContactPerson().empty and not BIRTHE.empty


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (Principal("guide-anne", Role.guide), True),
        (Principal("admin", Role.admin), True),
        (Principal("contact:birthe", Role.community_contact, ("c1", "c2")), True),
        (Principal("contact:jonas", Role.community_contact, ("c2",)), False),
        (Principal("prof-mette", Role.professional), False),
        (Principal("amb-lars", Role.ambassador), False),
        (Principal("analyst", Role.analyst), False),
        (Principal("dpo", Role.dpo), False),
        (Principal("system", Role.municipal_system), False),
    ],
)
def test_the_communitys_own_contact_guides_and_admins_change_the_contact_person(
    principal: Principal, allowed: bool
) -> None:
    if allowed:
        check_contact_editor(principal, "c1")
    else:
        with pytest.raises(Forbidden, match="only the community's own contact, a guide or an admin may change"):
            check_contact_editor(principal, "c1")


def _errors(body: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        ContactUpdate.model_validate(body)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


def test_a_contact_update_names_what_to_fix() -> None:
    assert "name" in _errors({"email": "b@x.dk"})
    assert "give the contact person's name" in _errors({"name": "  ", "email": "b@x.dk"})["name"]
    assert "e-mail address or a phone number" in _errors({"name": "Birthe"})["phone"]
    assert "e-mail address or a phone number" in _errors({"name": "Birthe", "email": "", "phone": " "})["phone"]
    assert "navn@forening.dk" in _errors({"name": "Birthe", "email": "birthe"})["email"]
    assert "+45 12 34 56 78" in _errors({"name": "Birthe", "phone": "ring mig"})["phone"]
    assert set(_errors({"name": "Birthe", "email": "b@x.dk", "role": "admin"})) == {"role"}

    kept = ContactUpdate.model_validate({"name": " Birthe ", "email": "", "phone": "+45 20 11 22 33"})
    assert (kept.name, kept.email, kept.phone, kept.public) == ("Birthe", None, "+45 20 11 22 33", False)


def test_a_community_body_cannot_make_nobody_public() -> None:
    with pytest.raises(ValidationError, match="no contact person to make public"):
        ContactIn.model_validate({"public": True})
    assert ContactIn.model_validate({"name": "Birthe"}).public is False
