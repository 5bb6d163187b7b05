"""The demo world of `make run`: a fictional but plausible catalogue of the profile's
municipality, in Danish (the data is in `data/demo.json`).

Seeded through the normal use cases, so every community is published as events and the
other services (referrals, notifications, analytics) learn the catalogue from the stream.
The first community has the well-known id `DEMO_CONTACT_COMMUNITY_ID`, whose community
contact owns the demo token "contact-strikkeklub". Some contact persons consented to be public
(`public_contacts`), Birthe Holm of that first community did not: the HSDS feed shows both
cases. Areas are the profile's codes; names that mention the town, the municipality or the
programme take them from the profile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, time
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from services.catalogue.domain import CapacityStatus, OrganizationKind, Weekday
from services.catalogue.schemas import (
    CapacityIn,
    CommunityIn,
    ContactIn,
    LocationIn,
    NeedIn,
    NetworkMeetingIn,
    OrganizationIn,
    ScheduleIn,
)
from services.catalogue.service import Catalogue, communities, needs, organizations
from services.catalogue.store import is_empty
from shared.app import BackgroundJob
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.principal import Principal, Role
from shared.profile import profile

log = logging.getLogger("vejviser.catalogue.demo")
DATA = Path(__file__).with_name("data") / "demo.json"


class DemoOrganization(BaseModel):
    id: str
    name: str
    kind: OrganizationKind
    domain: str  # for the e-mail addresses
    description: str


class DemoCommunity(BaseModel):
    name: str
    org: int  # 1-based index into the organisations
    categories: list[str]
    area: str
    description: str
    day: Weekday
    hours: tuple[int, int]
    seats: tuple[int, int, CapacityStatus]  # total, available, status
    special_needs: bool = False
    contact: str = ""
    practice: tuple[date, date] | None = None
    monthly: int | None = None


class DemoNeed(BaseModel):
    area: str
    category: str
    description: str


class DemoWorld(BaseModel):
    organizations: list[DemoOrganization]
    communities: list[DemoCommunity]
    # The contact persons who consented to be shown in the public HSDS feed; the others are
    # seen by staff only (the feed shows their organisation's contact details instead).
    public_contacts: list[str]
    streets: list[str]
    needs: list[DemoNeed]


@cache
def world() -> DemoWorld:
    """The demo data with the profile's town, municipality and programme filled in."""
    names = profile()
    text = DATA.read_text(encoding="utf-8")
    for key, value in {"city": names.city, "municipality": names.municipality, "programme": names.programme}.items():
        text = text.replace("{" + key + "}", value)
    return DemoWorld.model_validate_json(text)


def community_id(index: int) -> str:
    return DEMO_CONTACT_COMMUNITY_ID if index == 0 else f"demo-community-{index + 1:02d}"


def _community_in(index: int, seed: DemoCommunity, demo: DemoWorld) -> CommunityIn:
    area = profile().area.get(seed.area)
    # Spread the communities around the area's centre (deterministic, within ~1.5 km).
    lat = (area.lat or 0.0) + ((index * 37) % 21 - 10) * 0.0012
    lon = (area.lon or 0.0) + ((index * 53) % 21 - 10) * 0.0020
    org = demo.organizations[seed.org - 1]
    first_name = seed.contact.split()[0].lower().replace("ø", "oe").replace("æ", "ae").replace("å", "aa")
    total, available, status = seed.seats
    return CommunityIn(
        organization_id=org.id,
        name=seed.name,
        description=seed.description,
        categories=seed.categories,
        kind="practice_track" if seed.practice else "permanent",
        starts_on=seed.practice[0] if seed.practice else None,
        ends_on=seed.practice[1] if seed.practice else None,
        languages=["da", "ar"] if "arabisk" in seed.name else ["da"],
        cost="Gratis" if index % 3 == 0 else f"{100 + (index % 5) * 50} kr. om året",
        min_age=18,
        accessibility="Niveaufri adgang og handicaptoilet." if seed.special_needs else None,
        accepts_special_needs=seed.special_needs,
        accompaniment_welcome=True,
        contact=ContactIn(
            name=seed.contact,
            email=f"{first_name}@{org.domain}.example.dk",
            phone=f"+45 20 {10 + index:02d} {30 + index % 60:02d} {index % 90 + 10:02d}",
            public=seed.contact in demo.public_contacts,
        ),
        location=LocationIn(
            area=seed.area,
            address=f"{demo.streets[index % len(demo.streets)]} {index + 2}",
            postal_code=area.postal_code,
            city=area.city,
            latitude=round(lat, 5),
            longitude=round(lon, 5),
        ),
        schedules=[
            ScheduleIn(
                freq="monthly" if seed.monthly else "weekly",
                weekday=seed.day,
                week_of_month=seed.monthly,
                opens_at=time(seed.hours[0]),
                closes_at=time(seed.hours[1]),
            )
        ],
        capacity=CapacityIn(total=total or None, available=available if total else None, status=status),
    )


def seed(catalogue: Catalogue) -> bool:
    """Load the demo world when the catalogue is empty; True if it did."""
    if not catalogue.runtime.read(is_empty):
        return False
    demo = world()
    for org in demo.organizations:
        body = OrganizationIn(
            name=org.name, kind=org.kind, description=org.description, email=f"kontakt@{org.domain}.example.dk"
        )
        organizations.create(catalogue, body, organization_id=org.id)
    for index, community in enumerate(demo.communities):
        communities.register(catalogue, _community_in(index, community, demo), community_id=community_id(index))
    guide = Principal(DEMO_ACTORS["guide"], Role.guide)
    for need in demo.needs:
        needs.record(catalogue, NeedIn(area=need.area, category=need.category, description=need.description), guide)
    meeting = NetworkMeetingIn(
        held_on=date(2025, 3, 12),
        topic="Godt velkommen: hvordan tager vi imod nye medlemmer?",
        organization_ids=["demo-org-01", "demo-org-05", "demo-org-06", "demo-org-09", "demo-org-12"],
        notes="Foreningerne delte erfaringer med velkomstkontakter og prøvegange.",
    )
    needs.hold_meeting(catalogue, meeting, guide)
    return True


def seeder(catalogue: Catalogue) -> BackgroundJob:
    """The background job that loads the demo world (it ends by itself; a stop waits for it)."""

    async def job(_: asyncio.Event) -> None:
        if await asyncio.to_thread(seed, catalogue):
            log.info("demo catalogue loaded: %d communities", len(world().communities))

    return job
