"""What the other services answer, as far as the pages read it (pydantic, unknown fields
ignored so a service may add fields without breaking the web client)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from services.web.domain import capacity_key, capacity_word, status_word


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------------- catalogue


class Contact(Answer):
    """A community's contact person (staff and the contact see them; anonymous readers only
    when `public`)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    public: bool = False


class Location(Answer):
    area: str
    area_label: str
    place_name: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None


class Schedule(Answer):
    weekday: str
    text_da: str


class Capacity(Answer):
    total: int | None = None
    available: int | None = None
    status: str

    @property
    def key(self) -> str:
        return capacity_key(self.status, self.available)

    @property
    def word(self) -> str:
        return capacity_word(self.status, self.available)

    @property
    def full(self) -> bool:
        return self.key == "full"


class Organization(Answer):
    id: str
    name: str


class Community(Answer):
    id: str
    name: str
    description: str = ""
    organization: Organization
    categories: list[str] = Field(default_factory=list)
    category_labels: list[str] = Field(default_factory=list)
    kind: str = "permanent"
    starts_on: date | None = None
    ends_on: date | None = None
    cost: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    accessibility: str | None = None
    accepts_special_needs: bool = False
    accompaniment_welcome: bool = True
    contact: Contact | None = None
    location: Location
    schedules: list[Schedule] = Field(default_factory=list)
    capacity: Capacity
    archived_at: datetime | None = None
    pending_referrals: int = 0
    distance_km: float | None = None

    @property
    def practice_track(self) -> bool:
        return self.kind == "practice_track"

    @property
    def free(self) -> bool:
        return not self.cost or self.cost.strip().lower() in ("gratis", "0", "0 kr.", "0 kr")


class CommunityPage(Answer):
    total: int
    page: int
    per_page: int
    pages: int
    items: list[Community]


class Category(Answer):
    id: str
    name_da: str
    communities: int = 0


class Area(Answer):
    code: str
    label: str
    communities: int = 0


# ---------------------------------------------------------------------- referrals


class SharedContact(Answer):
    """The first name and phone the citizen agreed to share with the community and companion."""

    first_name: str
    phone: str | None = None


class Referral(Answer):
    referral_id: str
    citizen_ref: str
    community_id: str
    community_name: str | None = None
    referrer_id: str
    needs_accompaniment: bool = False
    special_considerations: bool = False
    channel: str = "in_person"
    note: str | None = None  # filled only for those the referrals service lets read it
    share_note_with_community: bool = False
    status: str
    allowed_actions: list[str] = Field(default_factory=list)
    companion_id: str | None = None
    rejection_reason: str | None = None
    participation: dict[str, bool] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    visit_at: datetime | None = None  # the community's proposed first visit
    shared_contact: SharedContact | None = None
    follow_up_due: int | None = None  # 4 or 12: that follow-up is due and unanswered
    loneliness: list[str] = Field(default_factory=list)  # the moments measured

    @property
    def status_word(self) -> str:
        return status_word(self.status)


class TimelineEntry(Answer):
    event_id: str
    type: str
    time: datetime
    status: str
    data: dict[str, object] = Field(default_factory=dict)


class Consent(Answer):
    purpose: str
    date: str | None = None
    recorded_by: str | None = None


class Citizen(Answer):
    citizen_ref: str
    area: str | None = None
    area_label: str | None = None
    consent: Consent | None = None
    has_contact: bool = False
    registered_at: datetime
    erased: bool = False


class CitizenContact(Answer):
    citizen_ref: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Referrer(Answer):
    actor_id: str
    role: str
    name: str | None = None
    area_label: str | None = None
    offers_accompaniment: bool = False

    @property
    def display_name(self) -> str:
        return self.name or self.actor_id


CATEGORIES = TypeAdapter(list[Category])
AREAS = TypeAdapter(list[Area])
REFERRALS = TypeAdapter(list[Referral])
TIMELINE = TypeAdapter(list[TimelineEntry])
REFERRERS = TypeAdapter(list[Referrer])
