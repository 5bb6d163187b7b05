"""The catalogue's events as they follow from a community's stored state."""

from __future__ import annotations

from services.catalogue.domain import Capacity, CommunityKind
from services.catalogue.store import Community
from shared.events.catalogue import CommunityCapacityChanged, CommunityRegistered, CommunityUpdated, WelcomeContact


def _contact(community: Community) -> WelcomeContact:
    person = community.contact_person
    return WelcomeContact(name=person.name, email=person.email, phone=person.phone, public=person.public)


def _kind(community: Community) -> CommunityKind:
    return "practice_track" if community.kind == "practice_track" else "permanent"


def _facts(community: Community) -> dict[str, object]:
    """What both CommunityRegistered and CommunityUpdated say about a community."""
    return {
        "community_id": community.id,
        "organization_id": community.organization_id,
        "name": community.name,
        "categories": list(community.categories),
        "area": community.area,
        "kind": _kind(community),
        "accepts_special_needs": community.accepts_special_needs,
        "contact": _contact(community),
        "accompaniment_welcome": community.accompaniment_welcome,
        "description": community.description or None,
    }


def registered_event(community: Community) -> CommunityRegistered:
    facts = _facts(community)
    if community.contact_person.empty:
        facts["contact"] = None
    return CommunityRegistered.model_validate({**facts, "capacity_total": community.capacity_total})


def updated_event(community: Community) -> CommunityUpdated:
    """Always with the contact: an empty one tells the consumers the contact person is gone
    (notifications stop mailing them), where `None` would mean "unchanged"."""
    return CommunityUpdated.model_validate(_facts(community))


def capacity_event(community: Community, capacity: Capacity) -> CommunityCapacityChanged:
    return CommunityCapacityChanged(
        community_id=community.id,
        available=capacity.available if capacity.available is not None else 0,
        total=capacity.total if capacity.total is not None else 0,
        status=capacity.status,
    )
