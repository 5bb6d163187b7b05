"""A community contact's own details from the Modtagelse form: the catalogue's body, or Danish
errors tied to the fields of that community's form."""

from __future__ import annotations

from services.web import contact_person

CID = "c-42"


def form(**values: str) -> dict[str, str]:
    return {f"{name}-{CID}": value for name, value in values.items()}


def test_a_correction_becomes_the_catalogues_body() -> None:
    body, errors = contact_person.check(
        form(contact_name=" Ole Have ", contact_email="ole@have.dk", contact_phone="", public="ja"), CID
    )
    assert not errors
    assert body == {"name": "Ole Have", "email": "ole@have.dk", "phone": None, "public": True}
    body, _ = contact_person.check(
        form(contact_name="Ole", contact_email="ole@have.dk", contact_phone="12 34 56 78"), CID
    )
    assert body["public"] is False and body["phone"] == "12 34 56 78"


def test_errors_name_the_fields_of_that_communitys_form() -> None:
    _, errors = contact_person.check(form(contact_email="ole", contact_phone="ring til mig"), CID)
    assert errors == [
        (f"contact_name-{CID}", "Skriv dit navn"),
        (f"contact_email-{CID}", "Skriv e-mailadressen som navn@eksempel.dk"),
        (f"contact_phone-{CID}", "Skriv telefonnummeret med cifre, fx 12 34 56 78"),
    ]
    _, errors = contact_person.check(form(contact_name="Ole"), CID)
    assert errors == [(f"contact_email-{CID}", "Skriv en e-mailadresse eller et telefonnummer")]
    body, errors = contact_person.check(form(contact_name="Ole", contact_phone="+45 12 34 56 78"), CID)
    assert not errors and body["email"] is None
    _, errors = contact_person.check(form(contact_name="x" * 201, contact_email="ole@have.dk"), CID)
    assert [field for field, _ in errors] == [f"contact_name-{CID}"]
    # another community's fields are not this form's
    _, errors = contact_person.check({"contact_name-c-1": "Ole", "contact_email-c-1": "ole@have.dk"}, CID)
    assert len(errors) == 2
