"""Bad input an attacker or a careless integrator sends gets a 4xx that names the problem, never a
500 (issue 15's probe): an offset past any database's integer, a period outside any calendar the
code can count in, empty ids in a body, and `%`/`_` taken as wildcards by a name search."""

from __future__ import annotations

from pathlib import Path

from services.analytics.main import build as build_analytics
from services.analytics.settings import AnalyticsSettings
from services.catalogue.main import build as build_catalogue
from tests.helpers import ServedApp, token
from tests.integration.catalogue.conftest import organization_body
from tests.integration.catalogue.conftest import settings as catalogue_settings
from tests.integration.referrals.support import GUIDE, PROF, running

ADMIN = token("admin", "admin-ringsted")
ANALYST = token("analyst", "analyst-vive")


async def test_referrals_name_what_is_wrong(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        far = await svc.call(GUIDE, "GET", "/v1/referrals", params={"offset": 10**30})
        assert far.status_code == 422, far.text
        assert far.json()["error"]["details"][0]["field"] == "offset"
        assert "10000000" in far.json()["error"]["message"].replace(",", "")

        audit = await svc.call(ADMIN, "GET", "/v1/audit", params={"offset": 10**30, "purpose": "supervision"})
        assert audit.status_code == 422, audit.text

        ref = await svc.citizen()
        empty = await svc.call(
            PROF, "POST", f"/v1/citizens/{ref}/bridge", json={"from_community_id": "", "to_referral_id": ""}
        )
        assert empty.status_code == 422, empty.text
        assert {d["field"] for d in empty.json()["error"]["details"]} == {"from_community_id", "to_referral_id"}

        nothing = await svc.call(PROF, "POST", "/v1/referrals", json={"citizen_ref": ref, "community_id": ""})
        assert nothing.status_code == 422, nothing.text
        assert nothing.json()["error"]["details"][0]["field"] == "community_id"


async def test_analytics_refuses_a_period_outside_the_calendar_it_counts_in(nats_clean: str, tmp_path: Path) -> None:
    settings = AnalyticsSettings(database_url=f"sqlite:///{tmp_path / 'a.db'}", nats_url=nats_clean)
    async with ServedApp(build_analytics(settings)) as served, served.client(ANALYST) as client:
        for params, field in (
            ({"from": "0001-01-01", "to": "9999-12-31"}, "from"),
            ({"to": "9999-12-31"}, "to"),
            ({"from": "2026-01-01", "to": "2025-01-01"}, "from"),
        ):
            answer = await client.get("/v1/metrics", params=params)
            assert answer.status_code == 422, (params, answer.text)
            assert answer.json()["error"]["details"]["field"] == field  # a domain error's details
        fine = await client.get("/v1/metrics", params={"from": "2026-01-01", "to": "2026-12-31"})
        assert fine.status_code == 200, fine.text


async def test_a_name_search_takes_percent_and_underscore_as_letters(sqlite_url: str, nats_clean: str) -> None:
    async with ServedApp(build_catalogue(catalogue_settings(sqlite_url, nats_clean))) as served:
        async with served.client(ADMIN) as client:
            for name in ("Foreningen Maskerne", "100% Kor", "Spil_og_snak"):
                made = await client.post("/v1/organizations", json=organization_body(name=name))
                assert made.status_code == 201, made.text
        async with served.client() as anonymous:

            async def names(search: str) -> list[str]:
                found = await anonymous.get("/hsds/organizations", params={"search": search})
                assert found.status_code == 200, found.text
                return sorted(org["name"] for org in found.json()["contents"])

            assert await names("%") == ["100% Kor"]
            assert await names("_") == ["Spil_og_snak"]
            assert await names("kor") == ["100% Kor"]
