"""The Danish words the dashboard shows for the codes the metrics count by.

Areas, categories, sectors and target groups are the municipality profile's
(`shared.profile`); only what the profile does not hold is named here: the cascade's roles,
rejection reasons and kinds of outreach, which are the same in every municipality.
"""

from __future__ import annotations

from shared.profile import profile

ROLES = {"guide": "Fællesskabsguides", "professional": "Fagpersoner", "ambassador": "Ambassadører"}
REJECTION_REASONS = {
    "full": "Fuldt hold",
    "not_suitable": "Passer ikke",
    "no_contact": "Ingen kontakt",
    "other": "Andet",
}
OUTREACH_KINDS = {
    "postcards": "Postkort",
    "website_visit": "Besøg på hjemmesiden",
    "info_meeting": "Infomøder",
    "door_to_door": "Dør-til-dør",
}
# The readiness funnel's columns (the same words as the web client's /parathed and /overblik).
READINESS = {
    "activated": "Aktiveret",
    "aware": "Kender Vejviser",
    "trained": "Uddannet",
    "referring": "Har henvist",
    "accompanying": "Har fulgt en borger",
}
UNKNOWN = "ukendt"


def role(code: str) -> str:
    return ROLES.get(code, code)


def rejection_reason(code: str) -> str:
    return REJECTION_REASONS.get(code, code)


def outreach_kind(code: str) -> str:
    return OUTREACH_KINDS.get(code, code)


def sector(code: str) -> str:
    return profile().sector.label(code)


def funnel_row(code: str) -> str:
    """A row of the readiness funnel: a sector, or the ambassadors' own row."""
    return ROLES["ambassador"] if code == "ambassador" else sector(code)


def target_group(code: str) -> str:
    return profile().target_group.label(code)


def area(code: str) -> str:
    return "Ukendt område" if code == UNKNOWN else profile().area.label(code)


def category(code: str) -> str:
    return "Ukendt kategori" if code == UNKNOWN else profile().category.label(code)
