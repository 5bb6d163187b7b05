"""Reading another directory's HSDS 3.0 service into catalogue values: the loose HSDS
models we accept, and the mapping of terms, schedules, places and contacts to ours.

Nothing here writes; `service/importing.py` applies the values, one savepoint per record.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.catalogue.domain import (
    ICAL_WEEKDAY,
    Schedule,
    categories_from_terms,
    category_by_term_id,
    check_schedule,
    distance_km,
)
from services.catalogue.hsds_taxonomy import PRACTICE_TRACK_CODE, PRACTICE_TRACK_TERM_ID
from shared.errors import DomainError, Invalid
from shared.profile import profile

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
HsdsId = Field(pattern=UUID_PATTERN)


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Term(_Loose):
    id: str | None = None
    code: str | None = None
    name: str | None = None


class Attribute(_Loose):
    taxonomy_term_id: str | None = None
    taxonomy_term: Term | None = None


class Address(_Loose):
    address_1: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None


class Location(_Loose):
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    addresses: list[Address] = []


class Phone(_Loose):
    number: str


class Contact(_Loose):
    name: str | None = None
    email: str | None = None
    phones: list[Phone] = []


class ServiceAtLocation(_Loose):
    location: Location | None = None
    contacts: list[Contact] = []


class HsdsSchedule(_Loose):
    freq: Literal["WEEKLY", "MONTHLY"] | None = None
    byday: str | None = None
    opens_at: str | None = None
    closes_at: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class Language(_Loose):
    code: str | None = None


class HsdsOrganization(_Loose):
    id: str = HsdsId
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    email: str | None = None
    website: str | None = None


class HsdsService(_Loose):
    id: str = HsdsId
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    status: Literal["active", "inactive", "defunct", "temporarily closed"]
    email: str | None = None
    organization_id: str | None = Field(default=None, pattern=UUID_PATTERN)
    organization: HsdsOrganization | None = None
    fees_description: str | None = None
    minimum_age: float | None = Field(default=None, ge=0, le=130)
    maximum_age: float | None = Field(default=None, ge=0, le=130)
    eligibility_description: str | None = None
    attributes: list[Attribute] = []
    service_at_locations: list[ServiceAtLocation] = []
    contacts: list[Contact] = []
    schedules: list[HsdsSchedule] = []
    languages: list[Language] = []


class RecordResult(BaseModel):
    index: int
    id: str | None = None
    status: Literal["created", "updated", "unchanged", "rejected"]
    community_id: str | None = None
    reason: str | None = None
    warnings: list[str] = []


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    results: list[RecordResult]


class RecordRejected(Exception):
    pass


def _clock(value: str | None) -> time | None:
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def schedules_from(service: HsdsService, warnings: list[str]) -> list[Schedule]:
    out: list[Schedule] = []
    for i, s in enumerate(service.schedules):
        opens, closes = _clock(s.opens_at), _clock(s.closes_at)
        if s.freq is None or not s.byday or opens is None or closes is None:
            warnings.append(f"schedules.{i}: needs freq, byday, opens_at and closes_at; skipped")
            continue
        for part in s.byday.split(","):
            match = re.fullmatch(r"(-?\d)?([A-Z]{2})", part.strip().upper())
            if not match or match.group(2) not in ICAL_WEEKDAY:
                warnings.append(f"schedules.{i}.byday: {part!r} is not a weekday code; skipped")
                continue
            weekly = s.freq == "WEEKLY"
            week = None if weekly else int(match.group(1) or 1)
            try:
                out.append(
                    check_schedule(
                        Schedule("weekly" if weekly else "monthly", ICAL_WEEKDAY[match.group(2)], opens, closes, week)
                    )
                )
            except ValueError as exc:
                warnings.append(f"schedules.{i}: {exc}; skipped")
    return out


def _terms(service: HsdsService) -> tuple[list[str], bool]:
    names: list[str] = []
    categories: list[str] = []
    practice_track = False
    by_term_id = category_by_term_id()
    for attribute in service.attributes:
        term = attribute.taxonomy_term
        term_id = attribute.taxonomy_term_id or (term.id if term else None)
        if term_id == PRACTICE_TRACK_TERM_ID or (term and term.code == PRACTICE_TRACK_CODE):
            practice_track = True
            continue
        if code := by_term_id.get(term_id or ""):
            categories.append(code)
        if term is not None:
            names += [v for v in (term.code, term.name) if v]
    for category in categories_from_terms(names):
        if category not in categories:
            categories.append(category)
    return categories, practice_track


def _area(address: Address | None, point: tuple[float, float] | None, warnings: list[str]) -> str:
    """The profile's area for the address's region or city (code or Danish name), else the
    one nearest to the location, else the first area, with a warning."""
    vocabulary = profile().area
    given = [v for v in (address.region, address.city) if v] if address else []
    for value in given:
        try:
            return vocabulary.check(value)
        except Invalid:
            continue
    said = f" ({', '.join(repr(v) for v in given)})" if given else ""
    placed = [a for a in vocabulary if a.lat is not None and a.lon is not None]
    if point is not None and placed:
        nearest = min(placed, key=lambda a: distance_km(point[0], point[1], a.lat or 0.0, a.lon or 0.0))
        warnings.append(f"service_at_locations: no area of ours{said}; the nearest, {nearest.code!r}, is used")
        return nearest.code
    first = vocabulary.codes[0]
    warnings.append(f"service_at_locations: no area of ours{said} and no position; filed under {first!r}")
    return first


def values_from(service: HsdsService, organization_id: str, warnings: list[str]) -> dict[str, object]:
    """Our community's columns for an HSDS service (what does not map is said in `warnings`)."""
    categories, practice_track = _terms(service)
    if not categories:
        categories = categories_from_terms([service.name, service.description or ""])[:2]
        if categories:
            found = ", ".join(categories)
            warnings.append(f"attributes: no taxonomy term maps to a category; from the text: {found}")
        else:
            categories = ["social"]
            warnings.append("attributes: no taxonomy term maps to a category; filed under 'social'")
    location = next((s.location for s in service.service_at_locations if s.location), None)
    address = location.addresses[0] if location and location.addresses else None
    lat, lon = (location.latitude, location.longitude) if location else (None, None)
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        warnings.append(f"location: coordinates ({lat}, {lon}) are not on Earth; left out")
        lat = lon = None
    area = _area(address, (lat, lon) if lat is not None and lon is not None else None, warnings)
    contacts = service.contacts or [c for s in service.service_at_locations for c in s.contacts]
    contact = contacts[0] if contacts else None
    phone = contact.phones[0].number.strip().strip('"') if contact and contact.phones else None
    starts = next((s.valid_from for s in service.schedules if s.valid_from), None)
    ends = next((s.valid_to for s in service.schedules if s.valid_to), None)
    kind = "practice_track" if practice_track and starts and ends and ends >= starts else "permanent"
    if practice_track and kind == "permanent":
        warnings.append("practice track without valid_from/valid_to; imported as permanent")
    languages = [
        lang.code.lower() for lang in service.languages if lang.code and re.fullmatch(r"[a-zA-Z]{2,3}", lang.code)
    ]
    return {
        "organization_id": organization_id,
        "name": service.name,
        "description": service.description or "",
        "categories": categories,
        "kind": kind,
        "starts_on": starts if kind == "practice_track" else None,
        "ends_on": ends if kind == "practice_track" else None,
        "languages": languages or ["da"],
        "cost": (service.fees_description or None),
        "min_age": int(service.minimum_age) if service.minimum_age is not None else None,
        "max_age": int(service.maximum_age) if service.maximum_age is not None else None,
        "accepts_special_needs": "særlige behov" in (service.eligibility_description or ""),
        # HSDS says nothing of consent: an imported contact person is public here only if the
        # same person already was (`changes.with_consent`); staff see them either way.
        "contact_name": contact.name if contact else None,
        "contact_email": (contact.email if contact and contact.email else service.email),
        "contact_phone": phone[:40] if phone else None,
        "place_name": location.name if location else None,
        "address": address.address_1 if address else None,
        "postal_code": address.postal_code[:10] if address and address.postal_code else None,
        "city": address.city if address else None,
        "area": area,
        "latitude": lat,
        "longitude": lon,
    }


def reason_for(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{where}: {first['msg']}"
    if isinstance(exc, DomainError):
        return exc.message
    return str(exc)
