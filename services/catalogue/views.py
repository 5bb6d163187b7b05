"""How catalogue records look in API answers: the named response models and the presenters
that fill them (English field names, Danish labels beside codes, times in Copenhagen)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.catalogue.domain import CAPACITY_DA, Capacity, CapacityStatus, Schedule, capacity_status, shown
from services.catalogue.store import Community, Need, NetworkMeeting, Organization, ScheduleRow
from shared.profile import profile


class OrganizationRef(BaseModel):
    id: str
    name: str
    kind: str


class OrganizationOut(OrganizationRef):
    hsds_id: str
    description: str
    email: str | None
    phone: str | None
    website: str | None
    created_at: datetime | None
    updated_at: datetime | None
    archived_at: datetime | None


class OrganizationDetail(OrganizationOut):
    community_ids: list[str]


class ContactOut(BaseModel):
    """The community's contact person (token holders only; the public HSDS feed shows them
    only when `public`)."""

    name: str | None
    email: str | None
    phone: str | None
    public: bool = Field(description="the contact person consented to be shown in the public feeds")


class LocationOut(BaseModel):
    area: str = Field(description="area code of the municipality profile")
    area_label: str = Field(description="the area's Danish name")
    place_name: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    latitude: float | None
    longitude: float | None


class ScheduleOut(BaseModel):
    freq: str
    weekday: str
    week_of_month: int | None
    opens_at: str = Field(description="HH:MM, Copenhagen time")
    closes_at: str
    text_da: str


class CapacityOut(BaseModel):
    total: int | None
    available: int | None
    status: CapacityStatus
    status_label: str = Field(description="the status in Danish")
    open_seats: bool
    updated_at: datetime | None


class CommunityOut(BaseModel):
    id: str
    hsds_id: str
    name: str
    description: str
    organization: OrganizationRef
    categories: list[str]
    category_labels: list[str] = Field(description="the categories' Danish names, in the same order")
    kind: str
    starts_on: date | None
    ends_on: date | None
    languages: list[str]
    cost: str | None
    min_age: int | None
    max_age: int | None
    accessibility: str | None
    accepts_special_needs: bool
    accompaniment_welcome: bool
    contact: ContactOut | None
    location: LocationOut
    schedules: list[ScheduleOut]
    capacity: CapacityOut
    created_at: datetime | None
    updated_at: datetime | None
    archived_at: datetime | None
    pending_referrals: int = 0


class CommunityHit(CommunityOut):
    score: float
    distance_km: float | None


class CommunityPage(BaseModel):
    total: int
    page: int
    per_page: int
    pages: int
    items: list[CommunityHit]


class CategoryOut(BaseModel):
    id: str
    name_da: str
    name_en: str
    taxonomy_term_id: str
    communities: int


class AreaOut(BaseModel):
    code: str
    label: str
    kind: str
    communities: int


class NeedOut(BaseModel):
    id: str
    area: str
    area_label: str
    category: str
    description: str
    recorded_by: str
    recorded_on: date
    recorded_at: datetime | None


class NeedPage(BaseModel):
    total: int
    page: int
    per_page: int
    pages: int
    items: list[NeedOut]


class MeetingOut(BaseModel):
    id: str
    held_on: date
    topic: str
    organizer_id: str
    organization_ids: list[str]
    notes: str
    recorded_at: datetime | None


# ---------------------------------------------------------------------- presenters


def organization_ref(org: Organization) -> OrganizationRef:
    return OrganizationRef(id=org.id, name=org.name, kind=org.kind)


def organization_view(org: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=org.id,
        hsds_id=org.hsds_id,
        name=org.name,
        kind=org.kind,
        description=org.description,
        email=org.email,
        phone=org.phone,
        website=org.website,
        created_at=shown(org.created_at),
        updated_at=shown(org.updated_at),
        archived_at=shown(org.archived_at),
    )


def schedule_view(row: ScheduleRow) -> ScheduleOut:
    schedule = Schedule.stored(row.freq, row.weekday, row.opens_at, row.closes_at, row.week_of_month)
    return ScheduleOut(
        freq=row.freq,
        weekday=row.weekday,
        week_of_month=row.week_of_month,
        opens_at=row.opens_at.strftime("%H:%M"),
        closes_at=row.closes_at.strftime("%H:%M"),
        text_da=schedule.describe_da(),
    )


def capacity_of(community: Community) -> Capacity:
    status = capacity_status(community.capacity_status)
    return Capacity(community.capacity_total, community.capacity_available, status)


def community_view(community: Community, pending_referrals: int = 0) -> CommunityOut:
    capacity = capacity_of(community)
    person = community.contact_person
    contact = None
    if not person.empty:
        contact = ContactOut(name=person.name, email=person.email, phone=person.phone, public=person.public)
    vocabulary = profile()
    return CommunityOut(
        id=community.id,
        hsds_id=community.hsds_id,
        name=community.name,
        description=community.description,
        organization=organization_ref(community.organization),
        categories=list(community.categories),
        category_labels=[vocabulary.category.label(code) for code in community.categories],
        kind=community.kind,
        starts_on=community.starts_on,
        ends_on=community.ends_on,
        languages=list(community.languages or []),
        cost=community.cost,
        min_age=community.min_age,
        max_age=community.max_age,
        accessibility=community.accessibility,
        accepts_special_needs=community.accepts_special_needs,
        accompaniment_welcome=community.accompaniment_welcome,
        contact=contact,
        location=LocationOut(
            area=community.area,
            area_label=vocabulary.area.label(community.area),
            place_name=community.place_name,
            address=community.address,
            postal_code=community.postal_code,
            city=community.city,
            latitude=community.latitude,
            longitude=community.longitude,
        ),
        schedules=[schedule_view(row) for row in community.schedules],
        capacity=CapacityOut(
            total=capacity.total,
            available=capacity.available,
            status=capacity.status,
            status_label=CAPACITY_DA[capacity.status],
            open_seats=capacity.has_open_seats,
            updated_at=shown(community.capacity_updated_at),
        ),
        created_at=shown(community.created_at),
        updated_at=shown(community.updated_at),
        archived_at=shown(community.archived_at),
        pending_referrals=pending_referrals,
    )


def need_view(need: Need) -> NeedOut:
    return NeedOut(
        id=need.id,
        area=need.area,
        area_label=profile().area.label(need.area),
        category=need.category,
        description=need.description,
        recorded_by=need.recorded_by,
        recorded_on=need.recorded_on,
        recorded_at=shown(need.recorded_at),
    )


def meeting_view(meeting: NetworkMeeting) -> MeetingOut:
    return MeetingOut(
        id=meeting.id,
        held_on=meeting.held_on,
        topic=meeting.topic,
        organizer_id=meeting.organizer_id,
        organization_ids=list(meeting.organization_ids),
        notes=meeting.notes,
        recorded_at=shown(meeting.recorded_at),
    )
