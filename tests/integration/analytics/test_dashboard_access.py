"""Who may see `/dashboard`: everyone in development; elsewhere only analysts, guides and
admins with their bearer token; nobody when DASHBOARD_ENABLED=false (404)."""

from __future__ import annotations

from pathlib import Path

from services.analytics.main import build
from services.analytics.settings import AnalyticsSettings
from shared.auth import issue_token
from tests.helpers import ServedApp

SECRET = "a-production-secret-for-this-test-only"


def settings(
    nats_url: str, tmp_path: Path, environment: str = "development", dashboard_enabled: bool = True
) -> AnalyticsSettings:
    return AnalyticsSettings(
        database_url=f"sqlite:///{tmp_path / 'dashboard.db'}",
        nats_url=nats_url,
        token_secret=SECRET,
        environment=environment,
        dashboard_enabled=dashboard_enabled,
    )


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, actor_id=f'someone-{role}', role=role)}"}


async def test_outside_development_the_dashboard_asks_for_a_reader_token(nats_clean: str, tmp_path: Path) -> None:
    production = settings(nats_clean, tmp_path, environment="production")
    async with ServedApp(build(production)) as served, served.client() as client:
        for path in ("/dashboard", "/dashboard/some-snapshot"):
            anonymous = await client.get(path)
            assert anonymous.status_code == 401, path
            assert "Bearer" in anonymous.json()["error"]["message"]
            professional = await client.get(path, headers=bearer("professional"))
            assert professional.status_code == 403, path
            assert "analyst" in professional.json()["error"]["message"]
        for role in ("analyst", "guide", "admin"):
            page = await client.get("/dashboard", headers=bearer(role))
            assert page.status_code == 200, role
            assert "Intet øjebliksbillede endnu" in page.text
        assert (await client.get("/dashboard/nope", headers=bearer("analyst"))).status_code == 404


async def test_in_development_the_dashboard_is_public(nats_clean: str, tmp_path: Path) -> None:
    async with ServedApp(build(settings(nats_clean, tmp_path))) as served, served.client() as client:
        assert (await client.get("/dashboard")).status_code == 200


async def test_a_switched_off_dashboard_is_not_there(nats_clean: str, tmp_path: Path) -> None:
    for environment in ("development", "production"):
        off = settings(nats_clean, tmp_path, environment=environment, dashboard_enabled=False)
        async with ServedApp(build(off)) as served, served.client() as client:
            for headers in ({}, bearer("admin")):
                response = await client.get("/dashboard", headers=headers)
                assert response.status_code == 404, (environment, headers)
                assert "DASHBOARD_ENABLED" in response.json()["error"]["message"]
            # The metrics API itself stays on.
            assert (await client.get("/v1/metrics", headers=bearer("analyst"))).status_code == 200
