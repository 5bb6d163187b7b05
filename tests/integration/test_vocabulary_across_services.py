"""One vocabulary through the whole system: the municipality profile's codes go in at the
catalogue and referrals, travel in events through notifications and analytics, and come out
as Danish labels on the dashboard; an unknown area is refused by name wherever it enters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.analytics import service as analytics_service
from services.analytics.main import build as build_analytics
from services.catalogue.main import build as build_catalogue
from services.notifications.main import build as build_notifications
from services.referrals.main import build as build_referrals
from shared.profile import profile
from shared.settings import Settings
from tests.helpers import ServedApp, ServedApps, eventually, token

ADMIN = token("admin", "admin-kommune")
GUIDE = token("guide", "guide-anne")
PROF = token("professional", "prof-mette")
ANALYST = token("analyst", "analyst-vive")
CITIZENS = 5  # enough that no breakdown cell is suppressed on the dashboard


@pytest.fixture
async def system(nats_clean: str, tmp_path: Path) -> AsyncIterator[dict[str, ServedApp]]:
    builders = {
        "catalogue": build_catalogue,
        "referrals": build_referrals,
        "notifications": build_notifications,
        "analytics": build_analytics,
    }
    async with ServedApps() as apps:
        served = {}
        for name, build in builders.items():
            settings = Settings(
                service=name,
                database_url=f"sqlite:///{tmp_path / (name + '.db')}",
                nats_url=nats_clean,
                relay_interval_seconds=0.05,
                retry_backoff_seconds=[0.1],
            )
            served[name] = await apps.serve(build(settings))
        yield served


async def call(app: ServedApp, tok: str, method: str, path: str, status: int, **kw: Any) -> Any:
    async with app.client(tok) as client:
        response = await client.request(method, path, **kw)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def community(organization_id: str, name: str, area: str) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "name": name,
        "description": "Vi mødes og hygger os.",
        "categories": ["food", "social"],
        "accepts_special_needs": True,
        "contact": {"name": "Birthe Holm", "email": "birthe@forening.example.dk"},
        "location": {"area": area, "address": "Skolevej 1"},
        "schedules": [{"weekday": "tue", "opens_at": "17:00", "closes_at": "19:00"}],
        "capacity": {"total": 30, "available": 20},
    }


def refused_by_name(body: dict[str, Any], field: str) -> None:
    message = body["error"]["message"]
    assert field in message and "Atlantis" in message, message
    assert all(code in message for code in profile().area.codes), message


async def test_the_profile_vocabulary_goes_through_all_four_services(system: dict[str, ServedApp]) -> None:
    catalogue, referrals = system["catalogue"], system["referrals"]
    notifications, analytics = system["notifications"], system["analytics"]

    # catalogue: a code or a Danish label goes in, the code is stored; an unknown area is refused
    org = await call(
        catalogue, ADMIN, "POST", "/v1/organizations", 201, json={"name": "Spiseklubben", "kind": "association"}
    )
    unknown = await call(catalogue, ADMIN, "POST", "/v1/communities", 422, json=community(org["id"], "X", "Atlantis"))
    refused_by_name(unknown, "area")
    dinner = await call(
        catalogue, ADMIN, "POST", "/v1/communities", 201, json=community(org["id"], "Madklubben", "Benløse")
    )
    assert dinner["location"]["area"] == "benloese"

    # referrals learns the community from the catalogue's events
    async def known() -> bool:
        listed = await call(referrals, GUIDE, "GET", "/v1/communities", 200)
        items = listed["items"] if isinstance(listed, dict) else listed
        return any(item.get("community_id", item.get("id")) == dinner["id"] for item in items)

    await eventually(known, timeout=20)

    # referrals: a professional in a sector, citizens in a housing area with a target group
    professional = {"actor_id": "prof-mette", "role": "professional", "sector": "job_centre", "area": "vestervang"}
    await call(referrals, GUIDE, "POST", "/v1/referrers", 422, json={**professional, "area": "Atlantis"})
    await call(referrals, GUIDE, "POST", "/v1/referrers", 201, json=professional)
    consent = {"purpose": "Henvisning til et fællesskab"}
    refused = await call(
        referrals, PROF, "POST", "/v1/citizens", 422, json={"consent": consent, "area": "Atlantis", "target_groups": []}
    )
    refused_by_name(refused, "area")
    contact = token("community_contact", "contact-birthe", [dinner["id"]])
    for _ in range(CITIZENS):
        citizen = await call(
            referrals,
            PROF,
            "POST",
            "/v1/citizens",
            201,
            json={"consent": consent, "area": "Vestervang", "target_groups": ["unemployed"]},
        )
        referral = await call(
            referrals,
            PROF,
            "POST",
            "/v1/referrals",
            201,
            json={"citizen_ref": citizen["citizen_ref"], "community_id": dinner["id"]},
        )
        await call(referrals, contact, "POST", f"/v1/referrals/{referral['referral_id']}/welcome", 200, json={})

    # notifications learns of every referral from the events: each gets its welcome timers
    async def nudged() -> bool:
        seen: set[str] = set()
        for status in ("scheduled", "cancelled", "pending", "sent"):
            items = await call(notifications, ADMIN, "GET", "/v1/nudges", 200, params={"status": status})
            seen |= {item["referral_id"] for item in items if item["referral_id"]}
        return len(seen) >= CITIZENS

    await eventually(nudged, timeout=30)

    # analytics counts by code
    async def counted() -> dict[str, Any] | None:
        metrics = await call(analytics, ADMIN, "GET", "/v1/metrics", 200, params={"suppress": "false"})
        areas = metrics["areas"]
        return metrics if areas["welcomed_by_area"].get("benloese") == CITIZENS else None

    metrics = await eventually(counted, timeout=30)
    assert metrics["referrers"]["referrals_by_sector"] == {"job_centre": CITIZENS}
    assert metrics["areas"]["cross_area_share"] == 1.0  # Vestervang's citizens, a community in Benløse
    assert metrics["equity"]["by_target_group"] == {"unemployed": {"referred": CITIZENS, "welcomed": CITIZENS}}

    # and the dashboard says it in Danish
    await asyncio.to_thread(analytics_service.take_snapshot, analytics.runtime)
    async with analytics.client(ANALYST) as client:
        page = (await client.get("/dashboard")).text
    for label in ("Jobcenter", "Benløse", "Ledige"):
        assert label in page, label
    for code in ("job_centre", "benloese", "unemployed"):
        assert code not in page, code
    assert profile().programme in page
