"""schemathesis against every service's API (issue 15): each service served over real HTTP on
SQLite with a real nats-server, fuzzed as each role on the operations that role may call, in
the examples, coverage and fuzzing phases. Checks: no server error, every status and content
type declared in the service's own OpenAPI document, every body matching its schema.

The normal suite runs a small example budget; `SOAK=1` a larger one. A 500 fixed because of a
finding gets its focused regression test below the fuzz test.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from services.catalogue.settings import CatalogueSettings
from shared.principal import Role
from shared.settings import Settings
from tests.helpers import ServedApp, token

SOAK = bool(os.environ.get("SOAK"))
MAX_EXAMPLES = 60 if SOAK else 3
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
API_SERVICES = ("catalogue", "referrals", "notifications", "analytics")


def build(name: str, database_url: str, nats_url: str) -> Any:
    module = importlib.import_module(f"services.{name}.main")
    settings = Settings(service=name, database_url=database_url, nats_url=nats_url)
    if name == "catalogue":
        # The public HSDS API's rate limit would answer (the declared) 429 and schemathesis would
        # wait out each Retry-After; the limit has its own tests.
        return module.build(CatalogueSettings.for_service(settings, hsds_rate_per_second=1e6, hsds_burst=10**6))
    return module.build(settings)


Roles = dict[str, Role | None]  # operationId -> the role whose token its requests carry (None: public)


def rounds(document: dict[str, Any]) -> list[tuple[dict[str, Any], Roles]]:
    """The runs over a service: each operation as every role let in (SOAK: a round per role
    of it), or in one round as one of them, the roles taking turns so every role is used.
    Public operations go without a token. (The roles not let in are refused at the door: the
    access matrix walks those.)"""
    turns = dict.fromkeys(Role, 0)
    plan: list[tuple[str, str, Role | None, int]] = []
    for path, operations in sorted(document["paths"].items()):
        if path == "/readyz":  # 503 while a part is away: the observability tests
            continue
        for method, operation in sorted(operations.items()):
            if operation.get("x-authentication") != "bearer":
                plan.append((path, method, None, 0))
                continue
            allowed = [Role(role) for role in operation.get("x-roles", [])]
            chosen = allowed if SOAK else [min(allowed, key=lambda role: turns[role])]
            for at, each in enumerate(chosen):
                turns[each] += 1
                plan.append((path, method, each, at))
    runs = []
    for index in sorted({at for *_, at in plan}):
        paths: dict[str, dict[str, Any]] = {}
        roles: Roles = {}
        for path, method, role, at in plan:
            if at == index:
                operation = document["paths"][path][method]
                paths.setdefault(path, {})[method] = operation
                roles[operation["operationId"]] = role
        runs.append(({**document, "paths": paths}, roles))
    return runs


def config(base_url: str, roles: Roles) -> SchemathesisConfig:
    checks: dict[str, Any] = {"enabled": False} | {name: {"enabled": True} for name in CHECKS}
    return SchemathesisConfig.from_dict(
        {
            "base-url": base_url,
            "workers": 1,
            "seed": 15,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": not SOAK},
            "phases": {
                "examples": {"enabled": True},
                # Wrong methods (405) are the framework's; the soak sends some too.
                "coverage": {"enabled": True, "unexpected-methods": ["TRACE", "PATCH"] if SOAK else []},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": checks,
            "suppress-health-check": ["all"],
            "operations": [
                {"include-operation-id": operation_id, "headers": {"Authorization": f"Bearer {token(role.value)}"}}
                for operation_id, role in roles.items()
                if role is not None
            ],
        }
    )


class Run:
    """What the runs over a service sent and found."""

    def __init__(self) -> None:
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.failures: set[str] = set()

    def record(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    self.requests += 1
                    status = interaction.response.status_code
                    self.statuses[status] = self.statuses.get(status, 0) + 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    sent = recorder.interactions.get(case_id)
                    answer = sent.response.status_code if sent and sent.response else None
                    request = sent.request if sent else None
                    where = f"{request.method} {request.uri}" if request else recorder.label
                    failure = check.failure_info.failure
                    self.failures.add(f"{check.name}: {where} -> {answer}: {failure.title}: {failure.message[:300]}")
        elif isinstance(event, events.NonFatalError):
            self.failures.add(f"engine error: {event.label}: {type(event.value).__name__}: {event.value}")
        elif isinstance(event, events.FatalError):
            self.failures.add(f"engine error: {type(event.exception).__name__}: {event.exception}")


def run(document: dict[str, Any], base_url: str, roles: Roles, into: Run) -> None:
    schema = schemathesis.openapi.from_dict(document, config=config(base_url, roles))
    for event in from_schema(schema).execute():
        into.record(event)


async def fuzz_service(name: str, tmp_path: Path, nats_url: str) -> Run:
    app = build(name, f"sqlite:///{tmp_path / f'{name}.db'}", nats_url)
    found = Run()
    async with ServedApp(app) as served:
        for document, roles in rounds(app.openapi()):
            await asyncio.to_thread(run, document, served.base_url, roles, found)
    return found


@pytest.mark.parametrize("name", API_SERVICES)
async def test_fuzzing_finds_no_server_error_and_no_undocumented_answer(
    name: str, tmp_path: Path, nats_clean: str
) -> None:
    found = await fuzz_service(name, tmp_path, nats_clean)
    print(f"{name}: {found.requests} requests, statuses {dict(sorted(found.statuses.items()))}")
    assert found.requests > 0
    assert sorted(found.failures) == [], "\n".join(sorted(found.failures))


# ---------------------------------------------------------------------- what fuzzing found


async def test_an_organisation_s_name_or_kind_cannot_be_patched_away(tmp_path: Path, nats_clean: str) -> None:
    """PATCH {"name": null} reached the database's NOT NULL as a 500."""
    app = build("catalogue", f"sqlite:///{tmp_path / 'catalogue.db'}", nats_clean)
    async with ServedApp(app) as served, served.client(token("admin")) as client:
        made = await client.post("/v1/organizations", json={"name": "Foreningen Maskerne", "kind": "association"})
        assert made.status_code == 201, made.text
        url = f"/v1/organizations/{made.json()['id']}"
        for field in ("name", "kind"):
            answer = await client.patch(url, json={field: None})
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"]["details"]["field"] == field
        assert (await client.get(url)).json()["name"] == "Foreningen Maskerne"
