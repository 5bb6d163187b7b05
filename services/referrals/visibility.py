"""Who may see a referral at all: guides and admins every one, a referrer their own (and the
companion they arranged), a community's contact those to the communities they receive for.

Apart from `domain.py` because it turns on the principal alone, never on where the referral is
in its lifecycle; `access.py` builds the finer rules (the note, the shared contact,
accompaniment requests) on it.
"""

from __future__ import annotations

from shared.errors import Forbidden
from shared.principal import Principal, Role

REFERRER_ROLES = frozenset({Role.professional, Role.ambassador})
SEE_ALL = frozenset({Role.guide, Role.admin})


def can_see(principal: Principal, *, referrer_id: str, companion_id: str | None, community_id: str) -> bool:
    if principal.role in SEE_ALL:
        return True
    if principal.role in REFERRER_ROLES:
        return principal.actor_id in (referrer_id, companion_id)
    if principal.role is Role.community_contact:
        return community_id in principal.communities
    return False


def check_can_see(principal: Principal, *, referrer_id: str, companion_id: str | None, community_id: str) -> None:
    if not can_see(principal, referrer_id=referrer_id, companion_id=companion_id, community_id=community_id):
        raise Forbidden(_not_yours(principal))


def _not_yours(principal: Principal) -> str:
    if principal.role in REFERRER_ROLES:
        return "this referral was made by someone else; you can see only your own referrals"
    if principal.role is Role.community_contact:
        return "this referral is to a community you do not receive for"
    return f"role '{principal.role.value}' cannot see individual referrals"
