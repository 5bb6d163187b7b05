"""Our catalogue as Open Referral HSDS 3.0 records (the public exchange format).

Identifiers: HSDS wants UUIDs. Communities and organisations created through the API or an
HSDS import already have UUID ids; demo data and municipal systems may use other ids
("demo-community-01"), so every record keeps an `hsds_id` column: the id itself when it is a
UUID, else a uuid5 of it (stable across restarts). Nested records (locations, schedules,
contacts…) get uuid5 ids derived from the community id, so they are stable too.

A community's welcome contact is a volunteer: their name, e-mail and phone are published only
when they consented (`contact_public`); otherwise the service's `email` and `contacts` carry the
organisation's own contact details.

The area travels as the address `region` (its Danish name); the profile's region as
`state_province`; an address without postal code or city takes its area's.

Taxonomies: the profile's categories are one taxonomy, the programme's own kind of community
(the practice track) another; their ids derive from the profile's code, so two municipalities'
vocabularies never share one. A taxonomy's `version` is a digest of its terms: it changes
exactly when a term is added, removed or renamed.

A community meets at one place, so it has one service at a location, whose id derives from
the community id like the location's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import lru_cache

from services.catalogue.domain import WEEKDAY_ICAL, Schedule, page_count, stable_uuid, term_id
from services.catalogue.hsds_models import (
    Accessibility,
    Address,
    Attribute,
    Contact,
    HsdsOrganization,
    HsdsSchedule,
    HsdsService,
    HsdsServiceAtLocation,
    Language,
    Location,
    LocationBrief,
    OrganizationBrief,
    Phone,
    ServiceAtLocation,
    ServiceAtLocationBrief,
    ServiceBrief,
    ServiceDetail,
    Taxonomy,
    TaxonomyTerm,
)
from services.catalogue.store import Community, Organization
from shared.profile import profile

HSDS_VERSION = "3.0"
PROFILE_URL = "https://specs.openreferral.org/en/3.0/"
TAXONOMY = "Vejviser fællesskabskategorier"
KIND_TAXONOMY = "Vejviser fællesskabstyper"
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


def category_taxonomy_id() -> str:
    return stable_uuid("taxonomy", f"{profile().code}:category")


def kind_taxonomy_id() -> str:
    return stable_uuid("taxonomy", f"{profile().code}:kind")


def category_term(code: str) -> TaxonomyTerm:
    category = profile().category.get(code)
    return TaxonomyTerm(
        id=term_id(code),
        code=code,
        name=category.label,
        description=category.label_en,
        taxonomy=TAXONOMY,
        taxonomy_id=category_taxonomy_id(),
        language="da",
    )


def practice_track_term() -> TaxonomyTerm:
    return TaxonomyTerm(
        id=PRACTICE_TRACK_TERM_ID,
        code=PRACTICE_TRACK_CODE,
        name="Social øvebane",
        description="A temporary, low-threshold community that bridges citizens into lasting ones",
        taxonomy=KIND_TAXONOMY,
        taxonomy_id=kind_taxonomy_id(),
        language="da",
    )


def taxonomy_terms() -> list[TaxonomyTerm]:
    return [category_term(community.code) for community in profile().category] + [practice_track_term()]


def taxonomies(base_url: str) -> list[Taxonomy]:
    """Our two vocabularies; `base_url` is the public address of this API, where each
    taxonomy can be fetched (its `uri`)."""
    terms = taxonomy_terms()
    described = (
        (category_taxonomy_id(), TAXONOMY, f"What a community in {profile().municipality} is about"),
        (kind_taxonomy_id(), KIND_TAXONOMY, f"The kinds of community {profile().programme} runs itself"),
    )
    return [
        Taxonomy(
            id=taxonomy_id,
            name=name,
            description=description,
            uri=f"{base_url}/hsds/taxonomies/{taxonomy_id}",
            version=_version([term for term in terms if term.taxonomy_id == taxonomy_id]),
        )
        for taxonomy_id, name, description in described
    ]


def _version(terms: list[TaxonomyTerm]) -> str:
    words = json.dumps([[term.code, term.name, term.description] for term in terms], ensure_ascii=False)
    return hashlib.sha256(words.encode()).hexdigest()[:12]


def organization_brief(org: Organization) -> OrganizationBrief:
    return OrganizationBrief(
        id=org.hsds_id, name=org.name, description=org.description or org.name, email=org.email, website=org.website
    )


def organization_record(org: Organization, services: list[Community]) -> HsdsOrganization:
    phones = None
    if org.phone:
        phones = [Phone(id=stable_uuid("org-phone", org.id), organization_id=org.hsds_id, number=org.phone)]
    return HsdsOrganization(
        **dict(organization_brief(org)), phones=phones, services=[service_brief(community) for community in services]
    )


def _public_email(community: Community) -> str | None:
    """The service's e-mail: the contact person's when they consented to be public, else the
    organisation's own."""
    person = community.contact_person
    return person.email if person.public and person.email else community.organization.email


def _brief_fields(community: Community) -> dict[str, object]:
    return {
        "id": community.hsds_id,
        "organization_id": community.organization.hsds_id,
        "name": community.name,
        "description": community.description or community.name,
        "status": "active" if community.archived_at is None else "inactive",
        "last_modified": _rfc3339(community.updated_at),
        "organization": organization_brief(community.organization),
        "email": _public_email(community),
        "fees_description": community.cost or None,
        "minimum_age": community.min_age,
        "maximum_age": community.max_age,
        "eligibility_description": (
            "Fællesskabet kan tage imod borgere med særlige behov." if community.accepts_special_needs else None
        ),
    }


def service_brief(community: Community) -> ServiceBrief:
    return ServiceBrief.model_validate(_brief_fields(community))


def _schedule(community: Community, index: int, schedule: Schedule) -> HsdsSchedule:
    day = WEEKDAY_ICAL[schedule.weekday]
    starts, ends = community.starts_on, community.ends_on
    return HsdsSchedule(
        id=stable_uuid("schedule", f"{community.id}:{index}"),
        service_id=community.hsds_id,
        freq="WEEKLY" if schedule.freq == "weekly" else "MONTHLY",
        interval=1,
        wkst="MO",
        byday=day if schedule.freq == "weekly" else f"{schedule.week_of_month or 1}{day}",
        opens_at=schedule.opens_at.strftime("%H:%M"),
        closes_at=schedule.closes_at.strftime("%H:%M"),
        description=schedule.describe_da(),
        valid_from=starts,
        dtstart=starts,
        valid_to=ends,
        until=ends,
    )


# Remembered: finding a service at a location by its id derives the id of every community.
@lru_cache(maxsize=65_536)
def service_at_location_id(community_id: str) -> str:
    return stable_uuid("service-at-location", community_id)


def _location(community: Community) -> Location:
    location_id = stable_uuid("location", community.id)
    area = profile().area.get(community.area) if community.area in profile().area else None
    area_label = area.label if area else community.area
    postal_code = community.postal_code or (area.postal_code if area else None)
    city = community.city or (area.city if area else None)
    addresses = None
    if community.address and city and postal_code:
        addresses = [
            Address(
                id=stable_uuid("address", community.id),
                location_id=location_id,
                address_1=community.address,
                city=city,
                region=area_label,
                state_province=profile().region,
                postal_code=postal_code,
                country="DK",
                address_type="physical",
            )
        ]
    accessibility = None
    if community.accessibility:
        accessibility = [
            Accessibility(
                id=stable_uuid("accessibility", community.id),
                location_id=location_id,
                description=community.accessibility,
            )
        ]
    has_point = community.latitude is not None and community.longitude is not None
    return Location(
        id=location_id,
        location_type="physical",
        name=community.place_name or area_label,
        description=f"Område: {area_label}",
        latitude=community.latitude if has_point else None,
        longitude=community.longitude if has_point else None,
        addresses=addresses,
        accessibility=accessibility,
    )


def _attributes(community: Community) -> list[Attribute]:
    linked = [
        (f"{community.id}:{code}", "category", category_term(code))
        for code in community.categories
        if code in profile().category
    ]
    if community.kind == PRACTICE_TRACK_CODE:
        linked.append((f"{community.id}:kind", "kind", practice_track_term()))
    return [
        Attribute(
            id=stable_uuid("attribute", key),
            link_id=community.hsds_id,
            link_type=link_type,
            link_entity="service",
            taxonomy_term_id=term.id,
            taxonomy_term=term,
        )
        for key, link_type, term in linked
    ]


def _contacts(community: Community) -> list[Contact]:
    """The welcome contact when they consented to be public; otherwise the organisation's own
    contact details, as a volunteer's name, e-mail and phone are theirs to publish. The two get
    different ids, so a consumer never merges the organisation with the person."""
    person = community.contact_person
    if person.public and not person.empty:
        ids = stable_uuid("contact", community.id), stable_uuid("phone", community.id)
        return [_contact(community, ids, "Velkomstkontakt", person.name, person.email, person.phone)]
    org = community.organization
    if not (org.email or org.phone):
        return []
    ids = stable_uuid("organization-contact", community.id), stable_uuid("organization-contact-phone", community.id)
    return [_contact(community, ids, "Arrangør", org.name, org.email, org.phone)]


def _contact(
    community: Community, ids: tuple[str, str], title: str, name: str | None, email: str | None, phone: str | None
) -> Contact:
    contact_id, phone_id = ids
    phones = [Phone(id=phone_id, contact_id=contact_id, number=phone)] if phone else None
    return Contact(id=contact_id, service_id=community.hsds_id, title=title, name=name, email=email, phones=phones)


def _detail_fields(community: Community) -> dict[str, object]:
    """A service's one-to-many records but its locations; the contacts under issue 13's rule."""
    schedules = [
        Schedule.stored(row.freq, row.weekday, row.opens_at, row.closes_at, row.week_of_month)
        for row in community.schedules
    ]
    languages = [
        Language(
            id=stable_uuid("language", f"{community.id}:{code}"),
            service_id=community.hsds_id,
            code=code,
            name=LANGUAGE_NAMES.get(code, code),
        )
        for code in community.languages or []
    ]
    return {
        **_brief_fields(community),
        "attributes": _attributes(community),
        "schedules": [_schedule(community, i, schedule) for i, schedule in enumerate(schedules)],
        "languages": languages,
        "contacts": _contacts(community),
    }


def service_record(community: Community) -> HsdsService:
    """A fully nested service (what `service.json` describes)."""
    location = _location(community)
    at_location = ServiceAtLocation(
        id=service_at_location_id(community.id),
        service_id=community.hsds_id,
        location_id=location.id,
        location=location,
    )
    return HsdsService.model_validate({**_detail_fields(community), "service_at_locations": [at_location]})


def service_at_location_brief(community: Community) -> ServiceAtLocationBrief:
    """The community at its place, one-to-one fields only (`service_at_location_list.json`)."""
    location = _location(community)
    return ServiceAtLocationBrief(
        id=service_at_location_id(community.id),
        service_id=community.hsds_id,
        location_id=location.id,
        location=LocationBrief.model_validate(location.model_dump(include=set(LocationBrief.model_fields))),
        service=service_brief(community),
    )


def service_at_location_record(community: Community) -> HsdsServiceAtLocation:
    """The community at its place, fully nested (`service_at_location.json`): the service
    without its locations, which would only repeat this one."""
    location = _location(community)
    return HsdsServiceAtLocation(
        id=service_at_location_id(community.id),
        service_id=community.hsds_id,
        location_id=location.id,
        location=location,
        service=ServiceDetail.model_validate(_detail_fields(community)),
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
