"""docker-compose.yml follows the Compose specification and wires what the services need;
the published interface documents in docs/ are current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from shared.nats_auth import USERS
from shared.natscluster import DEPLOYED_AUTHORIZATION, deployed_authorization, password_variable
from shared.settings import SERVICE_PORTS, SERVICES

REPO = Path(__file__).resolve().parents[2]
NATS_NODES = ("nats-1", "nats-2", "nats-3")
COMPOSE_SCHEMA = REPO.parent / "shared" / "reference" / "compose-spec" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_file_validates_against_the_compose_spec(compose: dict) -> None:  # type: ignore[type-arg]
    if not COMPOSE_SCHEMA.exists():
        pytest.skip(f"reference schema not found at {COMPOSE_SCHEMA} (the ../shared folder beside the repo)")
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(compose)


def test_compose_runs_a_three_node_nats_cluster_with_users(compose: dict) -> None:  # type: ignore[type-arg]
    services = compose["services"]
    for node in NATS_NODES:
        nats = services[node]
        assert nats["command"] == ["-c", f"/etc/nats/{node}.conf"]
        assert "./deploy/nats:/etc/nats:ro" in nats["volumes"]
        assert f"{node}-data:/data" in nats["volumes"], "each node keeps its own JetStream store"
        assert f"{node}-data" in compose["volumes"]
        assert "healthcheck" in nats
        assert set(nats["environment"]) == {password_variable(user) for user in USERS}
        config = (REPO / "deploy" / "nats" / f"{node}.conf").read_text()
        assert f'server_name: "{node}"' in config and 'include "cluster.conf"' in config
    shared = (REPO / "deploy" / "nats" / "cluster.conf").read_text()
    assert "jetstream" in shared and 'store_dir: "/data"' in shared
    assert all(f"nats-route://{node}:6222" in shared for node in NATS_NODES)
    assert 'include "authorization.conf"' in shared


def test_deployed_nats_users_are_the_table_of_shared_nats_auth() -> None:
    assert DEPLOYED_AUTHORIZATION.read_text() == deployed_authorization(), (
        "deploy/nats/authorization.conf is stale: run `python -m shared.natscluster`"
    )


def test_compose_wires_nats_postgres_and_every_service(compose: dict) -> None:  # type: ignore[type-arg]
    services = compose["services"]
    databases = services["postgres"]["environment"]["POSTGRES_MULTIPLE_DATABASES"].split(",")
    assert sorted(databases) == sorted(SERVICES)
    for name in SERVICES:
        service = services[name]
        env = service["environment"]
        assert env["NATS_URL"] == ",".join(f"nats://{node}:4222" for node in NATS_NODES)
        assert env["STREAM_REPLICAS"] == "3"
        assert env["DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        assert service["command"] == ["serve", name]
        assert f"{SERVICE_PORTS[name]}:{SERVICE_PORTS[name]}" in service["ports"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        if name != "web":  # the web client is not on the bus
            assert all(service["depends_on"][node]["condition"] == "service_healthy" for node in NATS_NODES)
            assert env["NATS_PASSWORD"] == f"${{{password_variable(name)}:?set {password_variable(name)}}}"


def test_compose_web_logs_in_with_a_configured_provider_and_calls_the_apis(compose: dict) -> None:  # type: ignore[type-arg]
    env = compose["services"]["web"]["environment"]
    assert env["ENVIRONMENT"] == "production"  # so the development identity provider is refused
    assert {"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "PUBLIC_BASE_URL"} <= set(env)
    for name in ("catalogue", "referrals", "notifications"):
        assert env[f"{name.upper()}_URL"] == f"http://{name}:{SERVICE_PORTS[name]}"


def test_published_interface_documents_are_current() -> None:
    from vejviser.interfaces import documents, render

    for filename, document in documents().items():
        path = REPO / "docs" / filename
        assert path.exists(), f"docs/{filename} is missing: run `make docs`"
        assert path.read_text() == render(document), f"docs/{filename} is stale: run `make docs`"
