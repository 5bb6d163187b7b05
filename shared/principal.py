"""Who is calling: a role and, for community contacts, the communities they receive for.

Pure data, so domain rules can decide on a `Principal` without importing FastAPI or jwt;
`shared/auth.py` turns a bearer token into one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    guide = "guide"
    professional = "professional"
    ambassador = "ambassador"
    community_contact = "community_contact"
    analyst = "analyst"
    admin = "admin"
    # The data protection officer (databeskyttelsesrådgiver): reads the audit log and answers
    # citizens' access requests; sees no worklists.
    dpo = "dpo"
    municipal_system = "municipal_system"


@dataclass(frozen=True)
class Principal:
    actor_id: str
    role: Role
    communities: tuple[str, ...] = field(default_factory=tuple)

    def has(self, *roles: Role) -> bool:
        return self.role in roles
