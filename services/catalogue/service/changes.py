"""State changes of communities inside a caller's unit of work, each returning the events it
causes. The API's use cases stage them; ingestion does not, because there the ingested event
itself is what goes out (shared.ingest puts it in the outbox)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from services.catalogue.domain import (
    Capacity,
    CommunityKind,
    Schedule,
    check_area,
    check_categories,
    hsds_id_for,
)
from services.catalogue.service import organizations
from services.catalogue.store import Community, ScheduleRow, bump_revision
from shared.errors import Conflict, NotFound
from shared.events import Event
from shared.events.catalogue import (
    CommunityArchived,
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
    WelcomeContact,
)

# Columns a community update may change (everything except identity, capacity and lifecycle).
COLUMNS = (
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
Values = Mapping[str, object]


def in_vocabulary(values: Values, *, area_field: str, categories_field: str) -> dict[str, object]:
    """`values` with the area and categories (when given) as the profile's codes; an unknown
    one is refused naming the allowed codes, under the caller's field names."""
    checked = dict(values)
    area = checked.get("area")
    if isinstance(area, str):
        checked["area"] = check_area(area, area_field)
    categories = checked.get("categories")
    if isinstance(categories, list):
        checked["categories"] = check_categories([str(c) for c in categories], categories_field)
    return checked


# ---------------------------------------------------------------------- events from state


def _contact(c: Community) -> WelcomeContact | None:
    if not (c.contact_name or c.contact_email or c.contact_phone):
        return None
    return WelcomeContact(name=c.contact_name, email=c.contact_email, phone=c.contact_phone)


def _kind(c: Community) -> CommunityKind:
    return "practice_track" if c.kind == "practice_track" else "permanent"


def registered_event(c: Community) -> CommunityRegistered:
    return CommunityRegistered(
        community_id=c.id,
        organization_id=c.organization_id,
        name=c.name,
        categories=list(c.categories),
        area=c.area,
        kind=_kind(c),
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
        kind=_kind(c),
        accepts_special_needs=c.accepts_special_needs,
        contact=_contact(c),
        accompaniment_welcome=c.accompaniment_welcome,
        description=c.description or None,
    )


def capacity_event(c: Community, capacity: Capacity) -> CommunityCapacityChanged:
    return CommunityCapacityChanged(
        community_id=c.id,
        available=capacity.available if capacity.available is not None else 0,
        total=capacity.total if capacity.total is not None else 0,
        status=capacity.status,
    )


# ---------------------------------------------------------------------- changes


def get(session: Session, community_id: str) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"no community with id {community_id!r}; search with GET /v1/communities")
    return community


def _active_organization(session: Session, organization_id: str) -> None:
    if organizations.get(session, organization_id).archived_at is not None:
        raise Conflict(
            f"organisation {organization_id!r} is archived; choose an active organisation", field="organization_id"
        )


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


def register(
    session: Session,
    community_id: str,
    values: Values,
    schedules: Sequence[Schedule],
    capacity: Capacity | None,
    now: datetime,
) -> tuple[Community, list[Event]]:
    if session.get(Community, community_id) is not None:
        raise Conflict(f"a community with id {community_id!r} exists already")
    _active_organization(session, str(values["organization_id"]))
    c = Community(
        id=community_id,
        hsds_id=hsds_id_for("community", community_id),
        created_at=now,
        updated_at=now,
        capacity_status="open",
        languages=["da"],
        description="",
    )
    for key in COLUMNS:
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
        events.append(capacity_event(c, capacity))
    return c, events


def update(
    session: Session, c: Community, values: Values, schedules: Sequence[Schedule] | None, now: datetime
) -> list[Event]:
    if c.archived_at is not None:
        raise Conflict(f"community {c.id!r} is archived; it can no longer be changed")
    if "organization_id" in values and values["organization_id"] != c.organization_id:
        _active_organization(session, str(values["organization_id"]))
    changed = False
    for key in COLUMNS:
        if key in values and getattr(c, key) != values[key]:
            setattr(c, key, values[key])
            changed = True
    if schedules is not None:
        current = [Schedule.stored(s.freq, s.weekday, s.opens_at, s.closes_at, s.week_of_month) for s in c.schedules]
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
    return [capacity_event(c, capacity)]


def archive(session: Session, c: Community, now: datetime) -> list[Event]:
    if c.archived_at is not None:
        return []
    c.archived_at = c.updated_at = now
    c.revision = bump_revision(session)
    return [CommunityArchived(community_id=c.id)]
