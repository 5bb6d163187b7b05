"""Request bodies of the catalogue API (pydantic): what a caller may send, validated.

The answers' shapes live in `views.py` with the presenters that fill them."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from services.catalogue.domain import (
    CapacityStatus,
    CommunityKind,
    Frequency,
    OrganizationKind,
    Schedule,
    Weekday,
    check_kind_dates,
    check_schedule,
)
from shared.privacy import FreeText

Name = Annotated[FreeText, Field(min_length=1, max_length=200)]
Text = Annotated[FreeText, Field(max_length=5000)]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9 ()-]{6,20}$"


def _email(value: str) -> str:
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError("not an e-mail address; write it like navn@forening.dk")
    return value


def _phone(value: str) -> str:
    if not re.fullmatch(PHONE_PATTERN, value):
        raise ValueError("not a phone number; write 6-20 digits, e.g. +45 12 34 56 78 (spaces, ( ) and - are fine)")
    return value


# Checked by a validator rather than `pattern` so that a refusal says what to write.
Email = Annotated[
    str,
    Field(
        max_length=200,
        description="an e-mail address such as navn@forening.dk",
        json_schema_extra={"pattern": EMAIL_PATTERN},
    ),
    AfterValidator(_email),
]
Phone = Annotated[
    str,
    Field(
        max_length=40,
        description="a phone number such as +45 12 34 56 78",
        json_schema_extra={"pattern": PHONE_PATTERN},
    ),
    AfterValidator(_phone),
]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=300)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationIn(_In):
    name: Name
    kind: OrganizationKind = "association"
    description: Text = ""
    email: Email | None = None
    phone: Phone | None = None
    website: Url | None = None


class OrganizationPatch(_In):
    name: Name | None = None
    kind: OrganizationKind | None = None
    description: Text | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Url | None = None


def _blank_is_none(value: object) -> object:
    # A form's emptied field says "none", not "an e-mail address that is empty".
    return None if isinstance(value, str) and not value.strip() else value


class ContactIn(_In):
    """The welcome contact: the person in the community who receives newcomers. A volunteer's
    personal data: staff see it; the public feeds (HSDS) only when `public`."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    public: bool = Field(
        default=False,
        description="the contact person consented to be shown in the public feeds (HSDS); "
        "without it those show only the organisation's own contact details",
    )

    @field_validator("name", "email", "phone", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_is_none(value)

    @model_validator(mode="after")
    def _someone_to_publish(self) -> Self:
        if self.public and not (self.name or self.email or self.phone):
            raise ValueError("there is no contact person to make public; give a name, an e-mail address or a phone")
        return self


class ContactUpdate(ContactIn):
    """The contact person's own details (`PUT /v1/communities/{id}/contact`): a name, and an
    e-mail address or a phone number (or both) so newcomers and guides can reach them."""

    name: Name
    # Checked when left out too: there must be a way to reach the contact.
    phone: Phone | None = Field(default=None, validate_default=True)

    @field_validator("email", "phone", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_is_none(value)

    @field_validator("name", mode="before")
    @classmethod
    def _named(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("give the contact person's name")
        return value

    @field_validator("phone", mode="after")
    @classmethod
    def _reachable(cls, value: str | None, info: ValidationInfo) -> str | None:
        # `email` is in info.data only when it was valid: a bad address is refused on its own.
        if value is None and "email" in info.data and info.data["email"] is None:
            raise ValueError(
                "give an e-mail address or a phone number (or both) so newcomers can reach the contact; "
                "to remove the contact person, use DELETE"
            )
        return value


class LocationIn(_In):
    area: Annotated[
        str,
        Field(min_length=1, max_length=100, description="area code from GET /v1/areas (a Danish label is accepted)"),
    ]
    place_name: Name | None = None
    address: Annotated[FreeText, Field(max_length=200)] | None = None
    postal_code: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    city: Annotated[FreeText, Field(max_length=100)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class ScheduleIn(_In):
    freq: Frequency = "weekly"
    weekday: Weekday
    opens_at: time
    closes_at: time
    week_of_month: int | None = None

    def to_domain(self) -> Schedule:
        return Schedule(self.freq, self.weekday, self.opens_at, self.closes_at, self.week_of_month)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        check_schedule(self.to_domain())
        return self


class CapacityIn(_In):
    total: Annotated[int, Field(ge=0)] | None = None
    available: Annotated[int, Field(ge=0)] | None = None
    status: CapacityStatus | None = None


Categories = Annotated[list[str], Field(min_length=1, max_length=8, description="category ids from GET /v1/categories")]


class _CommunityFields(_In):
    @model_validator(mode="after")
    def _ages(self) -> Self:
        low, high = getattr(self, "min_age", None), getattr(self, "max_age", None)
        if low is not None and high is not None and high < low:
            raise ValueError("max_age must be at least min_age")
        return self


class CommunityIn(_CommunityFields):
    organization_id: str = Field(min_length=1, max_length=64)
    name: Name
    description: Text = ""
    categories: Categories
    kind: CommunityKind = "permanent"
    starts_on: date | None = None
    ends_on: date | None = None
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = Field(default_factory=lambda: ["da"])
    cost: Annotated[FreeText, Field(max_length=200)] | None = None
    min_age: Annotated[int, Field(ge=0, le=130)] | None = None
    max_age: Annotated[int, Field(ge=0, le=130)] | None = None
    accessibility: Text | None = None
    accepts_special_needs: bool = False
    accompaniment_welcome: bool = True
    contact: ContactIn | None = None
    location: LocationIn
    schedules: list[ScheduleIn] = Field(default_factory=list, max_length=20)
    capacity: CapacityIn | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        check_kind_dates(self.kind, self.starts_on, self.ends_on)
        return self


class CommunityPatch(_CommunityFields):
    """Only the fields that are sent change."""

    organization_id: str | None = Field(default=None, min_length=1, max_length=64)
    name: Name | None = None
    description: Text | None = None
    categories: Categories | None = None
    kind: CommunityKind | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] | None = None
    cost: Annotated[FreeText, Field(max_length=200)] | None = None
    min_age: Annotated[int, Field(ge=0, le=130)] | None = None
    max_age: Annotated[int, Field(ge=0, le=130)] | None = None
    accessibility: Text | None = None
    accepts_special_needs: bool | None = None
    accompaniment_welcome: bool | None = None
    contact: ContactIn | None = None
    location: LocationIn | None = None
    schedules: list[ScheduleIn] | None = Field(default=None, max_length=20)


class NeedIn(_In):
    area: Annotated[str, Field(min_length=1, max_length=100, description="area code (a Danish label is accepted)")]
    category: Annotated[str, Field(max_length=100, description="category id from GET /v1/categories")]
    description: Annotated[FreeText, Field(min_length=3, max_length=2000)]
    recorded_on: date | None = None


class NetworkMeetingIn(_In):
    held_on: date
    topic: Annotated[FreeText, Field(min_length=1, max_length=300)]
    # As many as the event carries (shared/events/catalogue.py), each an id of at most 64.
    organization_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=100)
    notes: Annotated[FreeText, Field(max_length=5000)] = ""
