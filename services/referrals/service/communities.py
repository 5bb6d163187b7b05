"""Catalogue events → the local copy of communities, so a referral is validated without
calling the catalogue service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.referrals.tables import Community
from shared.errors import Invalid
from shared.events import Envelope
from shared.events.catalogue import (
    CommunityArchived,
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
)
from shared.profile import profile


def _area(value: str | None) -> str | None:
    """The profile's code for a community's area. The catalogue checks areas itself; a value
    this service's profile does not know is kept as it came rather than refusing the fact."""
    if value is None:
        return None
    try:
        return profile().area.check(value)
    except Invalid:
        return value


def _newer(community: Community, envelope: Envelope) -> bool:
    # Events of one community arrive in stream order, but a back-dated one must not undo a
    # newer fact; equal times apply (two facts in the same instant come in order).
    return envelope.time >= community.updated_at


def on_registered(session: Session, envelope: Envelope, event: CommunityRegistered) -> None:
    community = session.get(Community, event.community_id)
    if community is None:
        community = Community(community_id=event.community_id, capacity_status="open", archived=False)
        session.add(community)
    elif not _newer(community, envelope):
        return
    community.name = event.name
    community.area = _area(event.area)
    community.kind = event.kind
    community.categories = list(event.categories)
    community.accepts_special_needs = event.accepts_special_needs
    community.capacity_total = event.capacity_total
    community.updated_at = envelope.time


def on_updated(session: Session, envelope: Envelope, event: CommunityUpdated) -> None:
    community = session.get(Community, event.community_id)
    if community is None or not _newer(community, envelope):
        return  # an update of a community we never saw registered says too little to keep
    if event.area is not None:
        community.area = _area(event.area)
    for name in ("name", "kind", "accepts_special_needs"):
        value = getattr(event, name)
        if value is not None:
            setattr(community, name, value)
    if event.categories is not None:
        community.categories = list(event.categories)
    community.updated_at = envelope.time


def on_capacity(session: Session, envelope: Envelope, event: CommunityCapacityChanged) -> None:
    community = session.get(Community, event.community_id)
    if community is None or not _newer(community, envelope):
        return
    community.capacity_status = event.status
    community.capacity_available = event.available
    community.capacity_total = event.total
    community.updated_at = envelope.time


def on_archived(session: Session, envelope: Envelope, event: CommunityArchived) -> None:
    community = session.get(Community, event.community_id)
    if community is not None:
        community.archived = True
