"""Every service bounds what a request may carry, over real HTTP: a body over max_body_bytes
gets 413 naming the limit (declared or streamed chunked), JSON 100,000 levels deep gets 400
naming the depth limit, and a JSON body that is not UTF-8 gets 400 where it got a 500."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.settings import SERVICES, Settings
from tests.helpers import ServedApp, token

LIMIT = Settings().max_body_bytes
DEPTH = Settings().max_json_depth
TOO_LARGE = f"the request body is too large: at most {LIMIT} bytes; send less per request"
TOO_DEEP = f"the JSON is nested too deeply: at most {DEPTH} levels of arrays and objects inside one another"

# A POST of each service that takes a body (analytics takes none: a POST is refused all the same).
ENDPOINTS = {
    "catalogue": ("/v1/events", "application/cloudevents-batch+json"),
    "referrals": ("/v1/events", "application/cloudevents+json"),
    "notifications": ("/v1/webhooks", "application/json"),
    "analytics": ("/v1/snapshots", "application/json"),
    "web": ("/login/mail", "application/x-www-form-urlencoded"),
}
SYSTEM = token("municipal_system", "system-jobcenter")


@pytest.fixture(params=SERVICES)
async def served(request: pytest.FixtureRequest, nats_clean: str, tmp_path: Path) -> AsyncIterator[ServedApp]:
    name = request.param
    settings = Settings(service=name, database_url=f"sqlite:///{tmp_path / 'svc.db'}", nats_url=nats_clean)
    async with ServedApp(importlib.import_module(f"services.{name}.main").build(settings)) as app:
        yield app


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body streamed chunked, with no Content-Length."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_every_service_bounds_bodies_and_json_depth(served: ServedApp) -> None:
    path, content_type = ENDPOINTS[served.app.state.settings.service]
    async with served.client(SYSTEM) as client:
        declared = await client.post(path, content=b"a" * (LIMIT + 1), headers={"Content-Type": content_type})
        assert declared.status_code == 413, declared.text
        assert declared.json() == {"error": {"status": 413, "message": TOO_LARGE}}

        streamed = await client.post(path, content=chunks(3 * LIMIT), headers={"Content-Type": content_type})
        assert streamed.status_code == 413, streamed.text
        assert streamed.json()["error"]["message"] == TOO_LARGE

        deep = b"[" * 100_000 + b"]" * 100_000
        nested = await client.post(path, content=deep, headers={"Content-Type": "application/json"})
        assert nested.status_code == 400, nested.text
        assert nested.json()["error"]["message"] == TOO_DEEP

        # Within the limits the request reaches the service, which answers as ever.
        small = b"[]" if content_type.endswith("json") else b"email=a%40b.dk"
        fine = await client.post(path, content=small, headers={"Content-Type": content_type})
        assert fine.status_code not in (400, 413, 500), fine.text


@pytest.mark.parametrize("service", ["catalogue", "referrals"])
async def test_events_that_are_not_utf8_are_refused_with_400(service: str, nats_clean: str, tmp_path: Path) -> None:
    settings = Settings(service=service, database_url=f"sqlite:///{tmp_path / 'svc.db'}", nats_url=nats_clean)
    async with (
        ServedApp(importlib.import_module(f"services.{service}.main").build(settings)) as app,
        app.client(SYSTEM) as client,
    ):
        for content_type in ("application/cloudevents+json", "application/cloudevents-batch+json", None):
            headers = {"Content-Type": content_type} if content_type else {}
            answer = await client.post("/v1/events", content=b'{"area": "N\xf8rrebro"}', headers=headers)
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"]["message"] == (
                "the request body is not valid UTF-8 (byte 11); send JSON encoded as UTF-8"
            )
