"""Whether a community takes a new referral: it is known here (from the catalogue's events),
not archived, and not full unless the referrer agreed with the community to send the citizen
anyway.

Apart from `domain.py` because it rules on the community's record before any referral exists,
so the lifecycle's rules never see it.
"""

from __future__ import annotations

from shared.errors import Conflict, Invalid


def check_community_open(
    community_id: str, *, known: bool, archived: bool, capacity_status: str | None, override_full: bool
) -> None:
    if not known:
        raise Invalid(
            f"community_id: community {community_id!r} is not known to the referrals service; it must be "
            "registered in the catalogue first (or the catalogue's event has not arrived yet)",
            field="community_id",
        )
    if archived:
        raise Conflict(f"community {community_id!r} is archived and takes no new referrals; choose another community")
    if capacity_status == "full" and not override_full:
        raise Conflict(
            f"community {community_id!r} is full; choose another community, or send override_full: true "
            "if you have agreed with the community that they take the citizen anyway",
            capacity_status="full",
        )
