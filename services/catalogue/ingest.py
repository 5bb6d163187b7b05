"""`POST /v1/events`: applying catalogue events sent by municipal systems and the old directory.

The ingested envelope itself is what goes out through the outbox (shared.ingest does that),
so the commands' own events are dropped here. The event time is the change's time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.catalogue import commands
from services.catalogue.domain import check_categories, decide_capacity, local
from services.catalogue.store import Community, Organization
from shared.errors import Invalid, NotFound
from shared.events import Envelope, Event
from shared.events.catalogue import (
    CommunityArchived,
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
    NeedRecorded,
    NetworkMeetingHeld,
    WelcomeContact,
)


def _contact_values(contact: WelcomeContact | None) -> dict[str, Any]:
    if contact is None:
        return {}
    return {"contact_name": contact.name, "contact_email": contact.email, "contact_phone": contact.phone}


def _ensure_organization(session: Session, organization_id: str, envelope: Envelope) -> None:
    # Municipal systems send communities, not organisations (the contract has no organisation
    # event): an unknown organisation is registered by its id and can be named later.
    if session.get(Organization, organization_id) is None:
        commands.create_organization(
            session,
            organization_id,
            {"name": organization_id, "kind": "association", "description": f"Oprettet fra {envelope.source}"},
            envelope.time,
        )


def _categories(categories: list[str]) -> list[str]:
    try:
        return check_categories(categories)
    except ValueError as exc:
        raise Invalid(f"data.categories: {exc}") from None


def _known(session: Session, community_id: str) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"data.community_id: unknown community {community_id!r}; send CommunityRegistered first")
    return community


def apply(session: Session, envelope: Envelope, event: Event) -> None:
    now = envelope.time
    if isinstance(event, CommunityRegistered):
        values: dict[str, Any] = {
            "organization_id": event.organization_id,
            "name": event.name,
            "categories": _categories(event.categories),
            "area": event.area,
            "kind": event.kind,
            "accepts_special_needs": event.accepts_special_needs,
            **_contact_values(event.contact),
        }
        if event.accompaniment_welcome is not None:
            values["accompaniment_welcome"] = event.accompaniment_welcome
        if event.description is not None:
            values["description"] = event.description
        _ensure_organization(session, event.organization_id, envelope)
        existing = session.get(Community, event.community_id)
        if existing is None:
            community, _ = commands.register_community(session, event.community_id, values, [], None, now)
        else:
            community = existing
            commands.update_community(session, community, values, None, now)
        if event.capacity_total is not None and community.capacity_total != event.capacity_total:
            available = community.capacity_available
            if available is not None and available > event.capacity_total:
                available = event.capacity_total
            capacity = decide_capacity(event.capacity_total, available, None)
            commands.change_capacity(session, community, capacity, now)
    elif isinstance(event, CommunityUpdated):
        community = _known(session, event.community_id)
        sent = event.model_dump(exclude_none=True, exclude={"community_id", "contact"})
        if "categories" in sent:
            sent["categories"] = _categories(sent["categories"])
        if "organization_id" in sent:
            _ensure_organization(session, sent["organization_id"], envelope)
        sent.update(_contact_values(event.contact))
        commands.update_community(session, community, sent, None, now)
    elif isinstance(event, CommunityCapacityChanged):
        community = _known(session, event.community_id)
        commands.change_capacity(session, community, decide_capacity(event.total, event.available, event.status), now)
    elif isinstance(event, CommunityArchived):
        commands.archive_community(session, _known(session, event.community_id), now)
    elif isinstance(event, NeedRecorded):
        category = _categories([event.category])[0]
        recorded_on = local(now).date()  # type: ignore[union-attr]
        commands.record_need(
            session, event.need_id, event.area, category, event.description, event.recorded_by, recorded_on, now
        )
    elif isinstance(event, NetworkMeetingHeld):
        held_on = local(now).date()  # type: ignore[union-attr]
        commands.hold_meeting(
            session,
            event.meeting_id,
            held_on,
            event.topic,
            event.organizer_id,
            event.organization_ids,
            "",
            now,
            check_organizations=False,
        )
    else:  # pragma: no cover - shared.ingest only hands over this context's events
        raise Invalid(f"type: {envelope.type} cannot be ingested by the catalogue")
