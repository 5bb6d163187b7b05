"""Who may see `/dashboard`: only analysts, guides and admins with their bearer token, in every
environment (development included: the demo holds citizens too); nobody when
DASHBOARD_ENABLED=false (404, asked before the token, so the answer tells nothing more)."""

from __future__ import annotations

from pathlib import Path

from services.analytics.main import build
from services.analytics.settings import AnalyticsSettings
from shared.principal import Role
from tests.helpers import ServedApps, production_settings, token

READERS = ("analyst", "guide", "admin")
ENVIRONMENTS = ("development", "production")


def settings(nats_url: str, tmp_path: Path, environment: str, dashboard_enabled: bool = True) -> AnalyticsSettings:
    # Outside development with the session's keys (which are not development keys).
    values = production_settings(environment=environment) if environment != "development" else {}
    return AnalyticsSettings(
        **{"environment": environment, **values},
        database_url=f"sqlite:///{tmp_path / f'dashboard-{environment}.db'}",
        nats_url=nats_url,
        dashboard_enabled=dashboard_enabled,
    )


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, f'someone-{role}', audience='analytics')}"}


async def test_in_every_environment_the_dashboard_asks_for_a_reader_token(nats_clean: str, tmp_path: Path) -> None:
    others = [role.value for role in Role if role.value not in READERS]
    assert "dpo" in others and "professional" in others
    async with ServedApps() as apps:
        # One service per environment, each on its own database, served side by side.
        served = {env: await apps.serve(build(settings(nats_clean, tmp_path, env))) for env in ENVIRONMENTS}
        for environment in ENVIRONMENTS:
            async with served[environment].client() as client:
                for path in ("/dashboard", "/dashboard/some-snapshot", "/dashboard?embed=true"):
                    anonymous = await client.get(path)
                    assert anonymous.status_code == 401, (environment, path)
                    assert "Bearer" in anonymous.json()["error"]["message"]
                    for role in others:
                        refused = await client.get(path, headers=bearer(role))
                        assert refused.status_code == 403, (environment, path, role)
                        assert "analyst" in refused.json()["error"]["message"]
                for role in READERS:
                    page = await client.get("/dashboard", headers=bearer(role))
                    assert page.status_code == 200, (environment, role)
                    assert "Intet øjebliksbillede endnu" in page.text
                assert (await client.get("/dashboard/nope", headers=bearer("analyst"))).status_code == 404


async def test_a_switched_off_dashboard_is_not_there(nats_clean: str, tmp_path: Path) -> None:
    async with ServedApps() as apps:
        served = {
            env: await apps.serve(build(settings(nats_clean, tmp_path, env, dashboard_enabled=False)))
            for env in ENVIRONMENTS
        }
        for environment in ENVIRONMENTS:
            async with served[environment].client() as client:
                for headers in ({}, bearer("professional"), bearer("admin")):
                    for path in ("/dashboard", "/dashboard/some-snapshot"):
                        response = await client.get(path, headers=headers)
                        assert response.status_code == 404, (environment, headers, path)
                        assert "DASHBOARD_ENABLED" in response.json()["error"]["message"]
                # The metrics API itself stays on.
                assert (await client.get("/v1/metrics", headers=bearer("analyst"))).status_code == 200
