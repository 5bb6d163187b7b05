"""Pooled PostgreSQL connections the server has ended (a restart, an idle timeout) are found
and replaced (shared/pool_ping.py): one idle a while is pinged before use; one used a moment
ago fails its unit of work once, and the next unit of work connects afresh."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shared import pool_ping
from shared.db import Database
from tests.conftest import _postgres_admin_url, _postgres_database


@pytest.fixture
def postgres_url(postgres_admin_url: str | None) -> Iterator[str]:
    if postgres_admin_url is None:
        pytest.skip(_postgres_admin_url()[1])
    with _postgres_database(postgres_admin_url) as url:
        yield url


def backend(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


def end_sessions(url: str, pids: set[int]) -> None:
    """End the server's side of these connections, as a restart would."""
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):  # ended asynchronously: wait until the server lists them no more
            alive = conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": list(pids)}
            )
            if alive == 0:
                break
            time.sleep(0.02)
    admin.dispose()


def test_a_connection_idle_a_while_is_pinged_and_replaced(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_ping, "IDLE_SECONDS", 0.2)
    db = Database(postgres_url)
    first = backend(db)
    end_sessions(postgres_url, {first})
    time.sleep(0.3)  # idle longer than IDLE_SECONDS
    second = backend(db)  # no error: the ping found the connection dead and the pool made another
    assert second != first
    db.dispose()


def test_a_connection_used_a_moment_ago_fails_once_then_the_pool_connects_afresh(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_ping, "IDLE_SECONDS", 60.0)  # "a moment ago", however slow the machine
    db = Database(postgres_url)
    with db.transaction() as one, db.transaction() as two:  # two pooled connections
        pids = {
            int(one.scalar(text("SELECT pg_backend_pid()")) or 0),
            int(two.scalar(text("SELECT pg_backend_pid()")) or 0),
        }
    end_sessions(postgres_url, pids)
    # Not pinged (in use a moment ago): the unit of work meets the dead connection.
    with pytest.raises(OperationalError), db.transaction() as session:
        session.execute(text("SELECT 1"))
    # The disconnect discarded every connection made before it, the other dead one included.
    for _ in range(3):
        assert backend(db) not in pids
    db.dispose()
