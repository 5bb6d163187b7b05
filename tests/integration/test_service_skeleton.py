"""Every service starts, answers /healthz and /readyz over real HTTP, and protects its API."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from shared.settings import SERVICES, Settings
from tests.helpers import ServedApp


@pytest.mark.parametrize("name", SERVICES)
async def test_service_is_healthy_and_ready(name: str, nats_clean: str, tmp_path: Path) -> None:
    settings = Settings(service=name, database_url=f"sqlite:///{tmp_path / 'svc.db'}", nats_url=nats_clean)
    app = importlib.import_module(f"services.{name}.main").build(settings)
    async with ServedApp(app) as served, served.client() as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["service"] == name
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        # The web client is not on the bus: it is ready when its database is.
        expected = {"database": True} if name == "web" else {"database": True, "nats": True, "outbox": True}
        assert ready.json()["checks"] == expected


async def test_readyz_reports_a_lost_nats(fresh_nats, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(service="catalogue", database_url=f"sqlite:///{tmp_path / 'c.db'}", nats_url=fresh_nats.url)
    app = importlib.import_module("services.catalogue.main").build(settings)
    async with ServedApp(app) as served, served.client() as client:
        assert (await client.get("/readyz")).status_code == 200
        fresh_nats.stop()
        from tests.helpers import eventually

        async def unready() -> bool:
            response = await client.get("/readyz")
            return response.status_code == 503 and response.json()["checks"]["nats"] is False

        await eventually(unready, timeout=10)
