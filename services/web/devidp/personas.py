"""Who the development identity provider lets you be: the demo world's actors (the same ids
as shared/demo.py, so their referrals and inboxes are the demo's), with fictional names."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.principal import Role


@dataclass(frozen=True)
class Persona:
    key: str
    actor_id: str
    role: Role
    name: str
    description: str
    communities: tuple[str, ...] = field(default_factory=tuple)


PERSONAS = (
    Persona("guide", DEMO_ACTORS["guide"], Role.guide, "Anne Sørensen", "Guide i programmet"),
    Persona("professional", DEMO_ACTORS["professional"], Role.professional, "Mette Holm", "Fagperson, jobcentret"),
    Persona("professional-2", "prof-sundhed-jens", Role.professional, "Jens Mortensen", "Fagperson, sundhedscentret"),
    Persona("ambassador", DEMO_ACTORS["ambassador"], Role.ambassador, "Lars Bech", "Ambassadør (frivillig)"),
    Persona("ambassador-2", "amb-sofie", Role.ambassador, "Sofie Dahl", "Ambassadør (frivillig), følger borgere"),
    Persona(
        "community_contact",
        DEMO_ACTORS["community_contact"],
        Role.community_contact,
        "Birthe Holm",
        "Kontaktperson i et fællesskab",
        (DEMO_CONTACT_COMMUNITY_ID,),
    ),
    Persona("analyst", DEMO_ACTORS["analyst"], Role.analyst, "Vibeke Ravn", "Analytiker"),
    Persona("admin", DEMO_ACTORS["admin"], Role.admin, "Kim Administrator", "Administrator i kommunen"),
    Persona("dpo", DEMO_ACTORS["dpo"], Role.dpo, "Hanne Lund", "Databeskyttelsesrådgiver i kommunen"),
)
BY_KEY = {persona.key: persona for persona in PERSONAS}
