"""Our catalogue as Open Referral HSDS 3.0 records (the public exchange format).

Identifiers: HSDS wants UUIDs. Communities and organisations created through the API or an
HSDS import already have UUID ids; demo data and municipal systems may use other ids
("demo-community-01"), so every record keeps an `hsds_id` column: the id itself when it is a
UUID, else a uuid5 of it (stable across restarts). Nested records (locations, schedules,
contacts…) get uuid5 ids derived from the community id, so they are stable too.

The housing area travels as the address `region`; the region of Denmark as `state_province`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.catalogue.domain import (
    CATEGORIES,
    CATEGORY_BY_ID,
    WEEKDAY_ICAL,
    Category,
    Schedule,
    page_count,
    stable_uuid,
)
from services.catalogue.store import Community, Organization

HSDS_VERSION = "3.0"
PROFILE_URL = "https://specs.openreferral.org/en/3.0/"
TAXONOMY = "Vejviser fællesskabskategorier"
STATE_PROVINCE = "Region Sjælland"
LANGUAGE_NAMES = {
    "da": "Dansk",
    "en": "English",
    "de": "Deutsch",
    "ar": "العربية",
    "uk": "Українська",
    "pl": "Polski",
    "tr": "Türkçe",
    "so": "Soomaali",
    "fa": "فارسی",
}
# The programme's own term: practice tracks (sociale øvebaner), exported as an attribute.
PRACTICE_TRACK_CODE = "practice_track"
PRACTICE_TRACK_TERM_ID = stable_uuid("term", PRACTICE_TRACK_CODE)


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def category_term(category: Category) -> dict[str, Any]:
    return {
        "id": category.term_id,
        "code": category.id,
        "name": category.name_da,
        "description": category.name_en,
        "taxonomy": TAXONOMY,
        "language": "da",
    }


def practice_track_term() -> dict[str, Any]:
    return {
        "id": PRACTICE_TRACK_TERM_ID,
        "code": PRACTICE_TRACK_CODE,
        "name": "Social øvebane",
        "description": "A temporary, low-threshold community that bridges citizens into lasting ones",
        "taxonomy": TAXONOMY,
        "language": "da",
    }


def taxonomy_terms() -> list[dict[str, Any]]:
    return [category_term(c) for c in CATEGORIES] + [practice_track_term()]


def organization_brief(org: Organization) -> dict[str, Any]:
    record: dict[str, Any] = {"id": org.hsds_id, "name": org.name, "description": org.description or org.name}
    if org.email:
        record["email"] = org.email
    if org.website:
        record["website"] = org.website
    return record


def organization_record(org: Organization, services: list[Community]) -> dict[str, Any]:
    record = organization_brief(org)
    if org.phone:
        record["phones"] = [
            {"id": stable_uuid("org-phone", org.id), "organization_id": org.hsds_id, "number": org.phone}
        ]
    record["services"] = [service_brief(c) for c in services]
    return record


def service_brief(c: Community) -> dict[str, Any]:
    """The one-to-one fields of a service (what `service_list.json` describes)."""
    record: dict[str, Any] = {
        "id": c.hsds_id,
        "organization_id": c.organization.hsds_id,
        "name": c.name,
        "description": c.description or c.name,
        "status": "active" if c.archived_at is None else "inactive",
        "last_modified": _rfc3339(c.updated_at),
        "organization": organization_brief(c.organization),
    }
    if c.contact_email:
        record["email"] = c.contact_email
    if c.cost:
        record["fees_description"] = c.cost
    if c.min_age is not None:
        record["minimum_age"] = c.min_age
    if c.max_age is not None:
        record["maximum_age"] = c.max_age
    if c.accepts_special_needs:
        record["eligibility_description"] = "Fællesskabet kan tage imod borgere med særlige behov."
    return record


def _schedule(c: Community, index: int, s: Schedule) -> dict[str, Any]:
    day = WEEKDAY_ICAL[s.weekday]
    record: dict[str, Any] = {
        "id": stable_uuid("schedule", f"{c.id}:{index}"),
        "service_id": c.hsds_id,
        "freq": "WEEKLY" if s.freq == "weekly" else "MONTHLY",
        "interval": 1,
        "wkst": "MO",
        "byday": day if s.freq == "weekly" else f"{s.week_of_month or 1}{day}",
        "opens_at": s.opens_at.strftime("%H:%M"),
        "closes_at": s.closes_at.strftime("%H:%M"),
        "description": s.describe_da(),
    }
    if c.starts_on:
        record["valid_from"] = c.starts_on.isoformat()
        record["dtstart"] = c.starts_on.isoformat()
    if c.ends_on:
        record["valid_to"] = c.ends_on.isoformat()
        record["until"] = c.ends_on.isoformat()
    return record


def _location(c: Community) -> dict[str, Any]:
    location_id = stable_uuid("location", c.id)
    location: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "name": c.place_name or c.area,
        "description": f"Boligområde: {c.area}",
    }
    if c.latitude is not None and c.longitude is not None:
        location["latitude"] = c.latitude
        location["longitude"] = c.longitude
    if c.address and c.city and c.postal_code:
        location["addresses"] = [
            {
                "id": stable_uuid("address", c.id),
                "location_id": location_id,
                "address_1": c.address,
                "city": c.city,
                "region": c.area,
                "state_province": STATE_PROVINCE,
                "postal_code": c.postal_code,
                "country": "DK",
                "address_type": "physical",
            }
        ]
    if c.accessibility:
        location["accessibility"] = [
            {"id": stable_uuid("accessibility", c.id), "location_id": location_id, "description": c.accessibility}
        ]
    return location


def service_record(c: Community) -> dict[str, Any]:
    """A fully nested service (what `service.json` describes)."""
    record = service_brief(c)
    attributes = [
        {
            "id": stable_uuid("attribute", f"{c.id}:{cid}"),
            "link_id": c.hsds_id,
            "link_type": "category",
            "link_entity": "service",
            "taxonomy_term_id": CATEGORY_BY_ID[cid].term_id,
            "taxonomy_term": category_term(CATEGORY_BY_ID[cid]),
        }
        for cid in c.categories
        if cid in CATEGORY_BY_ID
    ]
    if c.kind == "practice_track":
        attributes.append(
            {
                "id": stable_uuid("attribute", f"{c.id}:kind"),
                "link_id": c.hsds_id,
                "link_type": "kind",
                "link_entity": "service",
                "taxonomy_term_id": PRACTICE_TRACK_TERM_ID,
                "taxonomy_term": practice_track_term(),
            }
        )
    record["attributes"] = attributes
    record["schedules"] = [
        _schedule(c, i, Schedule(s.freq, s.weekday, s.opens_at, s.closes_at, s.week_of_month))  # type: ignore[arg-type]
        for i, s in enumerate(c.schedules)
    ]
    record["service_at_locations"] = [
        {
            "id": stable_uuid("service-at-location", c.id),
            "service_id": c.hsds_id,
            "location_id": stable_uuid("location", c.id),
            "location": _location(c),
        }
    ]
    record["languages"] = [
        {
            "id": stable_uuid("language", f"{c.id}:{code}"),
            "service_id": c.hsds_id,
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
        }
        for code in c.languages or []
    ]
    if c.contact_name or c.contact_email or c.contact_phone:
        contact_id = stable_uuid("contact", c.id)
        contact: dict[str, Any] = {"id": contact_id, "service_id": c.hsds_id, "title": "Velkomstkontakt"}
        if c.contact_name:
            contact["name"] = c.contact_name
        if c.contact_email:
            contact["email"] = c.contact_email
        if c.contact_phone:
            contact["phones"] = [
                {"id": stable_uuid("phone", c.id), "contact_id": contact_id, "number": c.contact_phone}
            ]
        record["contacts"] = [contact]
    else:
        record["contacts"] = []
    return record


def page(items: list[dict[str, Any]], total: int, page_number: int, per_page: int) -> dict[str, Any]:
    pages = page_count(total, per_page)
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page_number,
        "size": len(items),
        "first_page": page_number == 1,
        "last_page": page_number >= pages,
        "empty": total == 0,
        "contents": items,
    }
