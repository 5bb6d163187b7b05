"""Catalogue events → the local copy of communities, so a referral is validated without
calling the catalogue service."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from services.referrals.store import Community
from shared.events import Envelope, Event
from shared.events.catalogue import (
    CommunityArchived,
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
)
from shared.inbox import Handler


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
    community.area = event.area
    community.kind = event.kind
    community.categories = list(event.categories)
    community.accepts_special_needs = event.accepts_special_needs
    community.capacity_total = event.capacity_total
    community.updated_at = envelope.time


def on_updated(session: Session, envelope: Envelope, event: CommunityUpdated) -> None:
    community = session.get(Community, event.community_id)
    if community is None or not _newer(community, envelope):
        return  # an update of a community we never saw registered says too little to keep
    for name in ("name", "area", "kind", "accepts_special_needs"):
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


HANDLERS: Mapping[type[Event], Handler] = {
    CommunityRegistered: on_registered,  # type: ignore[dict-item]
    CommunityUpdated: on_updated,  # type: ignore[dict-item]
    CommunityCapacityChanged: on_capacity,  # type: ignore[dict-item]
    CommunityArchived: on_archived,  # type: ignore[dict-item]
}
