"""The HSDS 3.0 objects the public API answers with, named so the OpenAPI shows their shape.

Only the fields Vejviser fills; absent values are left out of the answers (the routes
serialise with `exclude_none`), as the HSDS schemas do not all allow null.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel


class HsdsMeta(BaseModel):
    version: str
    profile: str
    openapi_url: str


class Taxonomy(BaseModel):
    """A vocabulary the taxonomy terms come from (what `taxonomy.json` describes)."""

    id: str
    name: str
    description: str
    uri: str
    version: str


class TaxonomyTerm(BaseModel):
    id: str
    code: str
    name: str
    description: str
    taxonomy: str
    taxonomy_id: str
    language: str


class Phone(BaseModel):
    """A phone number of an organisation or of a contact (the one link it has is filled)."""

    id: str
    number: str
    organization_id: str | None = None
    contact_id: str | None = None


class OrganizationBrief(BaseModel):
    id: str
    name: str
    description: str
    email: str | None = None
    website: str | None = None


class ServiceBrief(BaseModel):
    """The one-to-one fields of a service (what `service_list.json` describes)."""

    id: str
    organization_id: str
    name: str
    description: str
    status: str
    last_modified: str
    organization: OrganizationBrief
    email: str | None = None
    fees_description: str | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility_description: str | None = None


class HsdsOrganization(OrganizationBrief):
    phones: list[Phone] | None = None
    services: list[ServiceBrief]


class Attribute(BaseModel):
    id: str
    link_id: str
    link_type: str
    link_entity: str
    taxonomy_term_id: str
    taxonomy_term: TaxonomyTerm


class Validity(BaseModel):
    """When a practice track runs (a permanent community has no dates)."""

    valid_from: date | None = None
    dtstart: date | None = None
    valid_to: date | None = None
    until: date | None = None


class HsdsSchedule(Validity):
    """A weekly or monthly meeting time, RFC 5545-style (`byday` "TU", "1MO", "-1FR")."""

    id: str
    service_id: str
    freq: Literal["WEEKLY", "MONTHLY"]
    interval: int
    wkst: str
    byday: str
    opens_at: str
    closes_at: str
    description: str


class Address(BaseModel):
    id: str
    location_id: str
    address_1: str
    city: str
    region: str
    state_province: str
    postal_code: str
    country: str
    address_type: str


class Accessibility(BaseModel):
    id: str
    location_id: str
    description: str


class LocationBrief(BaseModel):
    """The one-to-one fields of a location (what a `service_at_location_list.json` nests)."""

    id: str
    location_type: str
    name: str
    description: str
    latitude: float | None = None
    longitude: float | None = None


class Location(LocationBrief):
    addresses: list[Address] | None = None
    accessibility: list[Accessibility] | None = None


class ServiceAtLocation(BaseModel):
    id: str
    service_id: str
    location_id: str
    location: Location


class Language(BaseModel):
    id: str
    service_id: str
    code: str
    name: str


class Contact(BaseModel):
    id: str
    service_id: str
    title: str
    name: str | None = None
    email: str | None = None
    phones: list[Phone] | None = None


class ServiceDetail(ServiceBrief):
    """A service with its one-to-many records, but not its locations: how a service at a
    location nests its service (`service_at_location.json`)."""

    attributes: list[Attribute]
    schedules: list[HsdsSchedule]
    languages: list[Language]
    contacts: list[Contact]


class HsdsService(ServiceDetail):
    """A fully nested service (what `service.json` describes)."""

    service_at_locations: list[ServiceAtLocation]


class ServiceAtLocationBrief(BaseModel):
    """A service at its location with their one-to-one fields (`service_at_location_list.json`)."""

    id: str
    service_id: str
    location_id: str
    location: LocationBrief
    service: ServiceBrief


class HsdsServiceAtLocation(BaseModel):
    """A fully nested service at a location (what `service_at_location.json` describes)."""

    id: str
    service_id: str
    location_id: str
    location: Location
    service: ServiceDetail


class _Page(BaseModel):
    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool


class ServicePage(_Page):
    contents: list[ServiceBrief]


class OrganizationPage(_Page):
    contents: list[OrganizationBrief]


class TermPage(_Page):
    contents: list[TaxonomyTerm]


class TaxonomyPage(_Page):
    contents: list[Taxonomy]


class ServiceAtLocationPage(_Page):
    contents: list[ServiceAtLocationBrief]
