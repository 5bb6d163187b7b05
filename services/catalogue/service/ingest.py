"""`POST /v1/events`: applying catalogue events sent by municipal systems and the old directory.

The ingested envelope itself is what goes out through the outbox (shared.ingest does that),
so the changes' own events are dropped here. The event time is the change's time. Areas and
categories are checked against the profile like the API's (a refusal names the allowed codes
and rejects that event alone), except that an event must carry the codes: it travels on as
posted, and a label would be counted apart from its code by every consumer.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalogue.domain import ContactPerson, decide_capacity
from services.catalogue.service import changes, needs, organizations
from services.catalogue.store import Community, Organization
from shared.clock import local
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


def _contact_values(contact: WelcomeContact | None) -> dict[str, object]:
    if contact is None:
        return {}
    # An empty contact removes the contact person (`changes.with_consent` then drops `public`).
    return {
        "contact_name": contact.name,
        "contact_email": contact.email,
        "contact_phone": contact.phone,
        "contact_public": contact.public,
    }


def _ensure_organization(session: Session, organization_id: str, envelope: Envelope) -> None:
    # Municipal systems send communities, not organisations (the contract has no organisation
    # event): an unknown organisation is registered by its id and can be named later.
    if session.get(Organization, organization_id) is None:
        values = {"name": organization_id, "kind": "association", "description": f"Oprettet fra {envelope.source}"}
        organizations.add(session, organization_id, values, envelope.time)


def _checked(values: dict[str, object]) -> dict[str, object]:
    return changes.in_vocabulary(values, area_field="data.area", categories_field="data.categories", exact=True)


def _known(session: Session, community_id: str) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"data.community_id: unknown community {community_id!r}; send CommunityRegistered first")
    return community


def _registered(session: Session, envelope: Envelope, event: CommunityRegistered) -> None:
    now = envelope.time
    values: dict[str, object] = {
        "organization_id": event.organization_id,
        "name": event.name,
        "categories": event.categories,
        "area": event.area,
        "kind": event.kind,
        "accepts_special_needs": event.accepts_special_needs,
        **_contact_values(event.contact),
    }
    if event.accompaniment_welcome is not None:
        values["accompaniment_welcome"] = event.accompaniment_welcome
    if event.description is not None:
        values["description"] = event.description
    values = _checked(values)
    _ensure_organization(session, event.organization_id, envelope)
    community = session.get(Community, event.community_id)
    if community is None:
        community, _ = changes.register(session, event.community_id, values, [], None, now)
    else:
        changes.update(session, community, values, None, now)
    if event.capacity_total is not None and community.capacity_total != event.capacity_total:
        available = community.capacity_available
        if available is not None and available > event.capacity_total:
            available = event.capacity_total
        changes.change_capacity(session, community, decide_capacity(event.capacity_total, available, None), now)


def _updated(session: Session, envelope: Envelope, event: CommunityUpdated) -> None:
    community = _known(session, event.community_id)
    sent: dict[str, object] = event.model_dump(exclude_none=True, exclude={"community_id", "contact"})
    if not sent and event.contact is not None and event.contact.empty:
        # The contact person removed alone: allowed on an archived community too, as by the API.
        changes.change_contact(session, community, ContactPerson(), envelope.time)
        return
    sent = _checked(sent)
    if isinstance(organization_id := sent.get("organization_id"), str):
        _ensure_organization(session, organization_id, envelope)
    sent.update(_contact_values(event.contact))
    changes.update(session, community, sent, None, envelope.time)


def _need(session: Session, envelope: Envelope, event: NeedRecorded) -> None:
    recorded_on = local(envelope.time).date()
    needs.add_need(session, event, recorded_on, envelope.time, where="data.", exact=True)


def _meeting(session: Session, envelope: Envelope, event: NetworkMeetingHeld) -> None:
    held_on = local(envelope.time).date()
    needs.add_meeting(session, event, held_on, "", envelope.time, check=False)


def apply(session: Session, envelope: Envelope, event: Event) -> None:
    now = envelope.time
    if isinstance(event, CommunityRegistered):
        _registered(session, envelope, event)
    elif isinstance(event, CommunityUpdated):
        _updated(session, envelope, event)
    elif isinstance(event, CommunityCapacityChanged):
        capacity = decide_capacity(event.total, event.available, event.status)
        changes.change_capacity(session, _known(session, event.community_id), capacity, now)
    elif isinstance(event, CommunityArchived):
        changes.archive(session, _known(session, event.community_id), now)
    elif isinstance(event, NeedRecorded):
        _need(session, envelope, event)
    elif isinstance(event, NetworkMeetingHeld):
        _meeting(session, envelope, event)
    else:  # pragma: no cover - shared.ingest only hands over this context's events
        raise Invalid(f"type: {envelope.type} cannot be ingested by the catalogue")
