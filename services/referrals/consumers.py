"""What the referrals service reads from other contexts: the catalogue's communities."""

from __future__ import annotations

from services.referrals.service.apply import handler_for
from services.referrals.service.communities import on_archived, on_capacity, on_registered, on_updated
from shared.events.catalogue import (
    CommunityArchived,
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
)
from shared.runtime import Subscription

HANDLERS = (
    Subscription(
        "catalogue",
        "communities",
        dict(
            (
                handler_for(CommunityRegistered, on_registered),
                handler_for(CommunityUpdated, on_updated),
                handler_for(CommunityCapacityChanged, on_capacity),
                handler_for(CommunityArchived, on_archived),
            )
        ),
    ),
)
