"""State changes of the catalogue inside a caller's transaction, each returning the events it
causes. The API stages those events in the outbox; ingestion does not, because there the
ingested event itself is what goes out (shared.ingest puts it in the outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from services.catalogue.domain import Capacity, Schedule, hsds_id_for
from services.catalogue.store import Community, Need, NetworkMeeting, Organization, ScheduleRow, bump_revision
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Event
from shared.events.catalogue import (
    CommunityArchived,
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
    NeedRecorded,
    NetworkMeetingHeld,
    WelcomeContact,
)

# Columns a community update may change (everything except identity, capacity and lifecycle).
COMMUNITY_COLUMNS = (
    "organization_id",
    "name",
    "description",
    "categories",
    "kind",
    "starts_on",
    "ends_on",
    "languages",
    "cost",
    "min_age",
    "max_age",
    "accessibility",
    "accepts_special_needs",
    "accompaniment_welcome",
    "contact_name",
    "contact_email",
    "contact_phone",
    "place_name",
    "address",
    "postal_code",
    "city",
    "area",
    "latitude",
    "longitude",
)
ORGANIZATION_COLUMNS = ("name", "kind", "description", "email", "phone", "website")


# ---------------------------------------------------------------------- events from state


def _contact(c: Community) -> WelcomeContact | None:
    if not (c.contact_name or c.contact_email or c.contact_phone):
        return None
    return WelcomeContact(name=c.contact_name, email=c.contact_email, phone=c.contact_phone)


def registered_event(c: Community) -> CommunityRegistered:
    return CommunityRegistered(
        community_id=c.id,
        organization_id=c.organization_id,
        name=c.name,
        categories=list(c.categories),
        area=c.area,
        kind=c.kind,  # type: ignore[arg-type]
        accepts_special_needs=c.accepts_special_needs,
        capacity_total=c.capacity_total,
        contact=_contact(c),
        accompaniment_welcome=c.accompaniment_welcome,
        description=c.description or None,
    )


def updated_event(c: Community) -> CommunityUpdated:
    return CommunityUpdated(
        community_id=c.id,
        organization_id=c.organization_id,
        name=c.name,
        categories=list(c.categories),
        area=c.area,
        kind=c.kind,  # type: ignore[arg-type]
        accepts_special_needs=c.accepts_special_needs,
        contact=_contact(c),
        accompaniment_welcome=c.accompaniment_welcome,
        description=c.description or None,
    )


def capacity_event(c: Community) -> CommunityCapacityChanged:
    return CommunityCapacityChanged(
        community_id=c.id,
        available=c.capacity_available if c.capacity_available is not None else 0,
        total=c.capacity_total if c.capacity_total is not None else 0,
        status=c.capacity_status,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------- organisations


def get_organization(session: Session, organization_id: str) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"no organisation with id {organization_id!r}", field="organization_id")
    return org


def create_organization(session: Session, organization_id: str, values: dict[str, Any], now: datetime) -> Organization:
    if session.get(Organization, organization_id) is not None:
        raise Conflict(f"an organisation with id {organization_id!r} exists already")
    org = Organization(
        id=organization_id,
        hsds_id=hsds_id_for("organization", organization_id),
        created_at=now,
        updated_at=now,
        **{"description": "", **values},
    )
    session.add(org)
    session.flush()
    return org


def update_organization(session: Session, org: Organization, values: dict[str, Any], now: datetime) -> None:
    changed = False
    for key, value in values.items():
        if key in ORGANIZATION_COLUMNS and getattr(org, key) != value:
            setattr(org, key, value)
            changed = True
    if changed:
        org.updated_at = now
        # The organisation's name is shown with each of its communities: let indexes catch up.
        for community in session.query(Community).filter(Community.organization_id == org.id):
            community.revision = bump_revision(session)


# ---------------------------------------------------------------------- communities


def get_community(session: Session, community_id: str) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"no community with id {community_id!r}; search with GET /v1/communities")
    return community


def _active_organization(session: Session, organization_id: str) -> Organization:
    org = get_organization(session, organization_id)
    if org.archived_at is not None:
        raise Conflict(
            f"organisation {organization_id!r} is archived; choose an active organisation", field="organization_id"
        )
    return org


def _set_schedules(c: Community, schedules: Sequence[Schedule]) -> None:
    c.schedules = [
        ScheduleRow(
            position=i,
            freq=s.freq,
            weekday=s.weekday,
            week_of_month=s.week_of_month,
            opens_at=s.opens_at,
            closes_at=s.closes_at,
        )
        for i, s in enumerate(schedules)
    ]


def _apply_capacity(c: Community, capacity: Capacity, now: datetime) -> bool:
    if (c.capacity_total, c.capacity_available, c.capacity_status) == (
        capacity.total,
        capacity.available,
        capacity.status,
    ):
        return False
    c.capacity_total, c.capacity_available, c.capacity_status = capacity.total, capacity.available, capacity.status
    c.capacity_updated_at = now
    return True


def register_community(
    session: Session,
    community_id: str,
    values: dict[str, Any],
    schedules: Sequence[Schedule],
    capacity: Capacity | None,
    now: datetime,
    *,
    hsds_id: str | None = None,
) -> tuple[Community, list[Event]]:
    if session.get(Community, community_id) is not None:
        raise Conflict(f"a community with id {community_id!r} exists already")
    _active_organization(session, values["organization_id"])
    c = Community(
        id=community_id,
        hsds_id=(hsds_id or hsds_id_for("community", community_id)).lower(),
        created_at=now,
        updated_at=now,
        capacity_status="open",
        languages=["da"],
        description="",
    )
    for key in COMMUNITY_COLUMNS:
        if key in values:
            setattr(c, key, values[key])
    _set_schedules(c, schedules)
    if capacity is not None:
        _apply_capacity(c, capacity, now)
    c.revision = bump_revision(session)
    session.add(c)
    session.flush()
    events: list[Event] = [registered_event(c)]
    if capacity is not None:
        events.append(capacity_event(c))
    return c, events


def update_community(
    session: Session,
    c: Community,
    values: dict[str, Any],
    schedules: Sequence[Schedule] | None,
    now: datetime,
) -> list[Event]:
    if c.archived_at is not None:
        raise Conflict(f"community {c.id!r} is archived; it can no longer be changed")
    if "organization_id" in values and values["organization_id"] != c.organization_id:
        _active_organization(session, values["organization_id"])
    changed = False
    for key in COMMUNITY_COLUMNS:
        if key in values and getattr(c, key) != values[key]:
            setattr(c, key, values[key])
            changed = True
    if schedules is not None:
        current = [
            Schedule(s.freq, s.weekday, s.opens_at, s.closes_at, s.week_of_month)  # type: ignore[arg-type]
            for s in c.schedules
        ]
        if current != list(schedules):
            _set_schedules(c, schedules)
            changed = True
    if not changed:
        return []
    c.updated_at = now
    c.revision = bump_revision(session)
    return [updated_event(c)]


def change_capacity(session: Session, c: Community, capacity: Capacity, now: datetime) -> list[Event]:
    if c.archived_at is not None:
        raise Conflict(f"community {c.id!r} is archived; its capacity can no longer change")
    if not _apply_capacity(c, capacity, now):
        return []
    c.updated_at = now
    c.revision = bump_revision(session)
    return [capacity_event(c)]


def archive_community(session: Session, c: Community, now: datetime) -> list[Event]:
    if c.archived_at is not None:
        return []
    c.archived_at = now
    c.updated_at = now
    c.revision = bump_revision(session)
    return [CommunityArchived(community_id=c.id)]


# ---------------------------------------------------------------------- needs and meetings


def record_need(
    session: Session,
    need_id: str,
    area: str,
    category: str,
    description: str,
    recorded_by: str,
    recorded_on: date,
    now: datetime,
) -> list[Event]:
    if session.get(Need, need_id) is not None:
        raise Conflict(f"need {need_id!r} is recorded already")
    session.add(
        Need(
            id=need_id,
            area=area,
            category=category,
            description=description,
            recorded_by=recorded_by,
            recorded_on=recorded_on,
            recorded_at=now,
        )
    )
    return [
        NeedRecorded(need_id=need_id, area=area, category=category, description=description, recorded_by=recorded_by)
    ]


def hold_meeting(
    session: Session,
    meeting_id: str,
    held_on: date,
    topic: str,
    organizer_id: str,
    organization_ids: list[str],
    notes: str,
    now: datetime,
    *,
    check_organizations: bool = True,
) -> list[Event]:
    if session.get(NetworkMeeting, meeting_id) is not None:
        raise Conflict(f"network meeting {meeting_id!r} is recorded already")
    organization_ids = list(dict.fromkeys(organization_ids))
    if check_organizations:
        for org_id in organization_ids:
            if session.get(Organization, org_id) is None:
                raise Invalid(f"no organisation with id {org_id!r}", field="organization_ids")
    session.add(
        NetworkMeeting(
            id=meeting_id,
            held_on=held_on,
            topic=topic,
            organizer_id=organizer_id,
            organization_ids=organization_ids,
            notes=notes,
            recorded_at=now,
        )
    )
    return [
        NetworkMeetingHeld(
            meeting_id=meeting_id, organizer_id=organizer_id, organization_ids=organization_ids, topic=topic
        )
    ]
