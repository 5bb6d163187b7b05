"""State changes of communities inside a caller's unit of work, each returning the events it
causes. The API's use cases stage them; ingestion does not, because there the ingested event
itself is what goes out (shared.ingest puts it in the outbox)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from services.catalogue.domain import (
    Capacity,
    ContactPerson,
    Schedule,
    check_area,
    check_categories,
    consented,
    hsds_id_for,
)
from services.catalogue.service import organizations
from services.catalogue.service.events import capacity_event, registered_event, updated_event
from services.catalogue.store import Community, ScheduleRow, bump_revision
from shared.errors import Conflict, NotFound
from shared.events import Event
from shared.events.catalogue import CommunityArchived

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
    "contact_public",
    "place_name",
    "address",
    "postal_code",
    "city",
    "area",
    "latitude",
    "longitude",
)
Values = Mapping[str, object]


def in_vocabulary(values: Values, *, area_field: str, categories_field: str, exact: bool = False) -> dict[str, object]:
    """`values` with the area and categories (when given) as the profile's codes; an unknown
    one (or with `exact`, a label) is refused naming the allowed codes, under the caller's
    field names."""
    checked = dict(values)
    area = checked.get("area")
    if isinstance(area, str):
        checked["area"] = check_area(area, area_field, exact=exact)
    categories = checked.get("categories")
    if isinstance(categories, list):
        categories = [str(category) for category in categories]
        checked["categories"] = check_categories(categories, categories_field, exact=exact)
    return checked


def _text(values: Values, key: str, current: str | None) -> str | None:
    value = values.get(key, current)
    return value if isinstance(value, str) else None


def with_consent(before: ContactPerson, values: Values) -> Values:
    """`values` with `contact_public` decided by `domain.consented` whenever they touch the
    contact person: an answer given is kept, a new person without one is not public."""
    if not any(key.startswith("contact_") for key in values):
        return values
    after = ContactPerson(
        _text(values, "contact_name", before.name),
        _text(values, "contact_email", before.email),
        _text(values, "contact_phone", before.phone),
    )
    answer = values.get("contact_public")
    return {**values, "contact_public": consented(before, after, answer if isinstance(answer, bool) else None)}


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


def _set_schedules(community: Community, schedules: Sequence[Schedule]) -> None:
    community.schedules = [
        ScheduleRow(
            position=position,
            freq=schedule.freq,
            weekday=schedule.weekday,
            week_of_month=schedule.week_of_month,
            opens_at=schedule.opens_at,
            closes_at=schedule.closes_at,
        )
        for position, schedule in enumerate(schedules)
    ]


def _apply_capacity(community: Community, capacity: Capacity, now: datetime) -> bool:
    if (community.capacity_total, community.capacity_available, community.capacity_status) == (
        capacity.total,
        capacity.available,
        capacity.status,
    ):
        return False
    community.capacity_total, community.capacity_available, community.capacity_status = (
        capacity.total,
        capacity.available,
        capacity.status,
    )
    community.capacity_updated_at = now
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
    community = Community(
        id=community_id,
        hsds_id=hsds_id_for("community", community_id),
        created_at=now,
        updated_at=now,
        capacity_status="open",
        languages=["da"],
        description="",
        contact_public=False,
    )
    values = with_consent(ContactPerson(), values)
    for key in COLUMNS:
        if key in values:
            setattr(community, key, values[key])
    _set_schedules(community, schedules)
    if capacity is not None:
        _apply_capacity(community, capacity, now)
    community.revision = bump_revision(session)
    session.add(community)
    session.flush()
    events: list[Event] = [registered_event(community)]
    if capacity is not None:
        events.append(capacity_event(community, capacity))
    return community, events


def update(
    session: Session, community: Community, values: Values, schedules: Sequence[Schedule] | None, now: datetime
) -> list[Event]:
    if community.archived_at is not None:
        raise Conflict(f"community {community.id!r} is archived; it can no longer be changed")
    if "organization_id" in values and values["organization_id"] != community.organization_id:
        _active_organization(session, str(values["organization_id"]))
    values = with_consent(community.contact_person, values)
    changed = False
    for key in COLUMNS:
        if key in values and getattr(community, key) != values[key]:
            setattr(community, key, values[key])
            changed = True
    if schedules is not None:
        current = [
            Schedule.stored(row.freq, row.weekday, row.opens_at, row.closes_at, row.week_of_month)
            for row in community.schedules
        ]
        if current != list(schedules):
            _set_schedules(community, schedules)
            changed = True
    if not changed:
        return []
    community.updated_at = now
    community.revision = bump_revision(session)
    return [updated_event(community)]


def change_contact(session: Session, community: Community, person: ContactPerson, now: datetime) -> list[Event]:
    """Set the contact person, or remove them with an empty `person`. Removal works on an
    archived community too: it is still shown by its id, and the details are the person's."""
    if community.archived_at is not None and not person.empty:
        raise Conflict(
            f"community {community.id!r} is archived; its contact person can only be removed "
            f"(DELETE /v1/communities/{community.id}/contact)"
        )
    if community.contact_person == person:
        return []
    community.contact_name, community.contact_email, community.contact_phone = person.name, person.email, person.phone
    community.contact_public = person.public
    community.updated_at = now
    community.revision = bump_revision(session)
    return [updated_event(community)]


def change_capacity(session: Session, community: Community, capacity: Capacity, now: datetime) -> list[Event]:
    if community.archived_at is not None:
        raise Conflict(f"community {community.id!r} is archived; its capacity can no longer change")
    if not _apply_capacity(community, capacity, now):
        return []
    community.updated_at = now
    community.revision = bump_revision(session)
    return [capacity_event(community, capacity)]


def archive(session: Session, community: Community, now: datetime) -> list[Event]:
    if community.archived_at is not None:
        return []
    community.archived_at = community.updated_at = now
    community.revision = bump_revision(session)
    return [CommunityArchived(community_id=community.id)]
