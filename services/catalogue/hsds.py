"""Our catalogue as Open Referral HSDS 3.0 records (the public exchange format).

Identifiers: HSDS wants UUIDs. Communities and organisations created through the API or an
HSDS import already have UUID ids; demo data and municipal systems may use other ids
("demo-community-01"), so every record keeps an `hsds_id` column: the id itself when it is a
UUID, else a uuid5 of it (stable across restarts). Nested records (locations, schedules,
contacts…) get uuid5 ids derived from the community id, so they are stable too.

The area travels as the address `region` (its Danish name); the profile's region as
`state_province`; an address without postal code or city takes its area's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.catalogue import hsds_models as m
from services.catalogue.domain import WEEKDAY_ICAL, Schedule, page_count, stable_uuid, term_id
from services.catalogue.store import Community, Organization
from shared.profile import profile

HSDS_VERSION = "3.0"
PROFILE_URL = "https://specs.openreferral.org/en/3.0/"
TAXONOMY = "Vejviser fællesskabskategorier"
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


def category_term(code: str) -> m.TaxonomyTerm:
    category = profile().category.get(code)
    return m.TaxonomyTerm(
        id=term_id(code),
        code=code,
        name=category.label,
        description=category.label_en,
        taxonomy=TAXONOMY,
        language="da",
    )


def practice_track_term() -> m.TaxonomyTerm:
    return m.TaxonomyTerm(
        id=PRACTICE_TRACK_TERM_ID,
        code=PRACTICE_TRACK_CODE,
        name="Social øvebane",
        description="A temporary, low-threshold community that bridges citizens into lasting ones",
        taxonomy=TAXONOMY,
        language="da",
    )


def taxonomy_terms() -> list[m.TaxonomyTerm]:
    return [category_term(c.code) for c in profile().category] + [practice_track_term()]


def organization_brief(org: Organization) -> m.OrganizationBrief:
    return m.OrganizationBrief(
        id=org.hsds_id, name=org.name, description=org.description or org.name, email=org.email, website=org.website
    )


def organization_record(org: Organization, services: list[Community]) -> m.HsdsOrganization:
    phones = None
    if org.phone:
        phones = [m.OrgPhone(id=stable_uuid("org-phone", org.id), organization_id=org.hsds_id, number=org.phone)]
    return m.HsdsOrganization(
        **dict(organization_brief(org)), phones=phones, services=[service_brief(c) for c in services]
    )


def _brief_fields(c: Community) -> dict[str, object]:
    return {
        "id": c.hsds_id,
        "organization_id": c.organization.hsds_id,
        "name": c.name,
        "description": c.description or c.name,
        "status": "active" if c.archived_at is None else "inactive",
        "last_modified": _rfc3339(c.updated_at),
        "organization": organization_brief(c.organization),
        "email": c.contact_email,
        "fees_description": c.cost or None,
        "minimum_age": c.min_age,
        "maximum_age": c.max_age,
        "eligibility_description": (
            "Fællesskabet kan tage imod borgere med særlige behov." if c.accepts_special_needs else None
        ),
    }


def service_brief(c: Community) -> m.ServiceBrief:
    return m.ServiceBrief.model_validate(_brief_fields(c))


def _schedule(c: Community, index: int, s: Schedule) -> m.HsdsSchedule:
    day = WEEKDAY_ICAL[s.weekday]
    starts = c.starts_on.isoformat() if c.starts_on else None
    ends = c.ends_on.isoformat() if c.ends_on else None
    return m.HsdsSchedule(
        id=stable_uuid("schedule", f"{c.id}:{index}"),
        service_id=c.hsds_id,
        freq="WEEKLY" if s.freq == "weekly" else "MONTHLY",
        interval=1,
        wkst="MO",
        byday=day if s.freq == "weekly" else f"{s.week_of_month or 1}{day}",
        opens_at=s.opens_at.strftime("%H:%M"),
        closes_at=s.closes_at.strftime("%H:%M"),
        description=s.describe_da(),
        valid_from=starts,
        dtstart=starts,
        valid_to=ends,
        until=ends,
    )


def _location(c: Community) -> m.Location:
    location_id = stable_uuid("location", c.id)
    area = profile().area.get(c.area) if c.area in profile().area else None
    area_label = area.label if area else c.area
    postal_code = c.postal_code or (area.postal_code if area else None)
    city = c.city or (area.city if area else None)
    addresses = None
    if c.address and city and postal_code:
        addresses = [
            m.Address(
                id=stable_uuid("address", c.id),
                location_id=location_id,
                address_1=c.address,
                city=city,
                region=area_label,
                state_province=profile().region,
                postal_code=postal_code,
                country="DK",
                address_type="physical",
            )
        ]
    accessibility = None
    if c.accessibility:
        accessibility = [
            m.Accessibility(id=stable_uuid("accessibility", c.id), location_id=location_id, description=c.accessibility)
        ]
    has_point = c.latitude is not None and c.longitude is not None
    return m.Location(
        id=location_id,
        location_type="physical",
        name=c.place_name or area_label,
        description=f"Område: {area_label}",
        latitude=c.latitude if has_point else None,
        longitude=c.longitude if has_point else None,
        addresses=addresses,
        accessibility=accessibility,
    )


def _attributes(c: Community) -> list[m.Attribute]:
    linked = [
        (f"{c.id}:{code}", "category", category_term(code)) for code in c.categories if code in profile().category
    ]
    if c.kind == PRACTICE_TRACK_CODE:
        linked.append((f"{c.id}:kind", "kind", practice_track_term()))
    return [
        m.Attribute(
            id=stable_uuid("attribute", key),
            link_id=c.hsds_id,
            link_type=link_type,
            link_entity="service",
            taxonomy_term_id=term.id,
            taxonomy_term=term,
        )
        for key, link_type, term in linked
    ]


def _contacts(c: Community) -> list[m.Contact]:
    if not (c.contact_name or c.contact_email or c.contact_phone):
        return []
    contact_id = stable_uuid("contact", c.id)
    phones = None
    if c.contact_phone:
        phones = [m.ContactPhone(id=stable_uuid("phone", c.id), contact_id=contact_id, number=c.contact_phone)]
    return [
        m.Contact(
            id=contact_id,
            service_id=c.hsds_id,
            title="Velkomstkontakt",
            name=c.contact_name,
            email=c.contact_email,
            phones=phones,
        )
    ]


def service_record(c: Community) -> m.HsdsService:
    """A fully nested service (what `service.json` describes)."""
    schedules = [Schedule.stored(s.freq, s.weekday, s.opens_at, s.closes_at, s.week_of_month) for s in c.schedules]
    at_location = m.ServiceAtLocation(
        id=stable_uuid("service-at-location", c.id),
        service_id=c.hsds_id,
        location_id=stable_uuid("location", c.id),
        location=_location(c),
    )
    languages = [
        m.Language(
            id=stable_uuid("language", f"{c.id}:{code}"),
            service_id=c.hsds_id,
            code=code,
            name=LANGUAGE_NAMES.get(code, code),
        )
        for code in c.languages or []
    ]
    return m.HsdsService.model_validate(
        {
            **_brief_fields(c),
            "attributes": _attributes(c),
            "schedules": [_schedule(c, i, s) for i, s in enumerate(schedules)],
            "service_at_locations": [at_location],
            "languages": languages,
            "contacts": _contacts(c),
        }
    )


def page_fields(total: int, size: int, page_number: int, per_page: int) -> dict[str, int | bool]:
    pages = page_count(total, per_page)
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page_number,
        "size": size,
        "first_page": page_number == 1,
        "last_page": page_number >= pages,
        "empty": total == 0,
    }
