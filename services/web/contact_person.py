"""A community's contact person's own details, as they correct them on Modtagelse: the form
read into the catalogue's `PUT /v1/communities/{id}/contact` body, or Danish errors tied to
the fields. The patterns are the catalogue's own, so a form that passes here passes there.
No I/O here."""

from __future__ import annotations

from collections.abc import Mapping

from services.web.wizard import EMAIL, PHONE, FieldError
from shared.privacy import contains_cpr

# The form's fields; their names and ids carry the community's id (one page, several forms).
FIELDS = ("contact_name", "contact_email", "contact_phone", "public")


def field_id(name: str, community_id: str) -> str:
    return f"{name}-{community_id}"


def check(form: Mapping[str, object], community_id: str) -> tuple[dict[str, object], list[FieldError]]:
    """The catalogue's body {name, email, phone, public} from the posted form: a name, and an
    e-mail address or a phone number (or both), as the catalogue asks. Without an e-mail the
    contact gets no mail about new referrals and cannot log in by mail (the page says so)."""
    name, email, phone = (str(form.get(field_id(field, community_id)) or "").strip() for field in FIELDS[:3])
    errors: list[FieldError] = []
    if not name:
        errors.append((field_id("contact_name", community_id), "Skriv dit navn"))
    elif len(name) > 200:
        errors.append((field_id("contact_name", community_id), "Navnet må højst være 200 tegn"))
    elif contains_cpr(name):
        errors.append((field_id("contact_name", community_id), "Skriv ikke CPR-nummer her"))
    if not email and not phone:
        errors.append((field_id("contact_email", community_id), "Skriv en e-mailadresse eller et telefonnummer"))
    elif email and (not EMAIL.match(email) or len(email) > 200):
        errors.append((field_id("contact_email", community_id), "Skriv e-mailadressen som navn@eksempel.dk"))
    if phone and not PHONE.match(phone):
        errors.append((field_id("contact_phone", community_id), "Skriv telefonnummeret med cifre, fx 12 34 56 78"))
    body: dict[str, object] = {
        "name": name,
        "email": email or None,
        "phone": phone or None,
        "public": form.get(field_id("public", community_id)) == "ja",
    }
    return body, errors
