"""`vejviser run` (what `make run` calls) brings up the whole system with demo data: four
ready services, tokens, the demo catalogue, demo referrals, a dashboard, and mail in the
sink when a referral is made; Ctrl-C stops every process."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import System, get, wait_for
from tests.helpers import tls


def test_tokens_for_every_role(system: System) -> None:
    tokens = system.tokens
    assert set(tokens) == {
        "guide",
        "professional",
        "ambassador",
        "community_contact",
        "analyst",
        "admin",
        "municipal_system",
        "dpo",
    }


def test_demo_catalogue_is_served(system: System) -> None:
    tokens = system.tokens

    def communities() -> int:
        response = get(8001, "/v1/communities?per_page=100", tokens["guide"])
        body = response.json()
        return int(body.get("total", len(body.get("items", [])))) if response.status_code == 200 else 0

    assert wait_for(lambda: communities() >= 50, 60, "50 demo communities")


def test_demo_referrals_arrive_in_every_service(system: System) -> None:
    tokens = system.tokens

    def referrals() -> int:
        response = get(8002, "/v1/referrals", tokens["guide"])
        if response.status_code != 200:
            return 0
        body = response.json()
        return len(body["items"] if isinstance(body, dict) else body)

    wait_for(lambda: referrals() > 10, 150, "demo referrals")

    def dashboard() -> bool:
        response = get(8004, "/dashboard", tokens["analyst"])
        return response.status_code == 200 and "<svg" in response.text

    wait_for(dashboard, 90, "a dashboard with charts")

    # The demo story: most citizens join a community in their own area, a minority cross.
    def cross_area_share() -> float | None:
        response = get(8004, "/v1/metrics?suppress=false", tokens["admin"])
        areas = response.json()["areas"] if response.status_code == 200 else {}
        return areas.get("cross_area_share") if areas.get("welcomed_by_area") else None

    share = wait_for(cross_area_share, 90, "welcomed demo referrals with both areas known")
    assert 0 < share < 0.5


def test_a_new_referral_puts_mail_in_the_sink(system: System) -> None:
    var, tokens = system.var, system.tokens
    mail = var / "mail"
    wait_for(lambda: get(8002, "/v1/referrals", tokens["guide"]).status_code == 200, 60, "referrals API")
    before = set(mail.glob("*.eml")) if mail.exists() else set()
    headers = {"Authorization": f"Bearer {tokens['guide']}"}
    communities = get(8001, "/v1/communities?per_page=5", tokens["guide"]).json()["items"]
    citizen = httpx.post(
        "http://127.0.0.1:8002/v1/citizens",
        headers=headers,
        timeout=10,
        json={
            "contact": {"name": "Test Borger", "phone": "+45 20 00 00 00"},
        },
        verify=tls(),
    )
    assert citizen.status_code in (200, 201), citizen.text
    referral = httpx.post(
        "http://127.0.0.1:8002/v1/referrals",
        headers=headers,
        timeout=10,
        json={
            "citizen_ref": citizen.json()["citizen_ref"],
            "community_id": communities[0]["id"],
            "referrer_id": "guide-anne",
            "override_full": True,
        },
        verify=tls(),
    )
    assert referral.status_code in (200, 201), referral.text
    new = wait_for(lambda: set(mail.glob("*.eml")) - before, 30, "a new .eml under var/mail")
    assert new
