"""Our catalogue as Open Referral HSDS 3.0 records (the public exchange format).

Identifiers: HSDS wants UUIDs. Communities and organisations created through the API or an
HSDS import already have UUID ids; demo data and municipal systems may use other ids
("demo-community-01"), so every record keeps an `hsds_id` column: the id itself when it is a
UUID, else a uuid5 of it (stable across restarts). Nested records (locations, schedules,
contacts…) get uuid5 ids derived from the community id, so they are stable too.

A community's welcome contact is a volunteer: their name, e-mail and phone are published only
when they consented (`contact_public`); otherwise the service's `email` and `contacts` carry the
organisation's own contact details.

A community meets at one place, so it has one service at a location, whose id derives from
the community id like the location's. The place itself is built in `hsds_location.py`, the
taxonomies a service's attributes point to in `hsds_taxonomy.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from services.catalogue.domain import WEEKDAY_ICAL, Schedule, page_count, stable_uuid
from services.catalogue.hsds_location import location_record
from services.catalogue.hsds_models import (
    Attribute,
    Contact,
    HsdsOrganization,
    HsdsSchedule,
    HsdsService,
    HsdsServiceAtLocation,
    Language,
    LocationBrief,
    OrganizationBrief,
    Phone,
    ServiceAtLocation,
    ServiceAtLocationBrief,
    ServiceBrief,
    ServiceDetail,
)
from services.catalogue.hsds_taxonomy import PRACTICE_TRACK_CODE, category_term, practice_track_term
from services.catalogue.store import Community, Organization
from shared.profile import profile

HSDS_VERSION = "3.0"
PROFILE_URL = "https://specs.openreferral.org/en/3.0/"
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


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
    location = location_record(community)
    at_location = ServiceAtLocation(
        id=service_at_location_id(community.id),
        service_id=community.hsds_id,
        location_id=location.id,
        location=location,
    )
    return HsdsService.model_validate({**_detail_fields(community), "service_at_locations": [at_location]})


def service_at_location_brief(community: Community) -> ServiceAtLocationBrief:
    """The community at its place, one-to-one fields only (`service_at_location_list.json`)."""
    location = location_record(community)
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
    location = location_record(community)
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
