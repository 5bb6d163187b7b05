"""The migrations and the models agree, on SQLite and PostgreSQL: every database migrated from
empty to head is what its models declare (a model change without a revision fails here), with
the DDL the models install by events; an unversioned database is stamped; concurrent starts of
one service both succeed."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, insert, inspect, text, update
from sqlalchemy.exc import DBAPIError

from shared.db import Database
from shared.migrations import SCHEMAS, MigrationError, current, differences, scripts, target_metadata, upgrade

NAMES = sorted(SCHEMAS)


def heads(name: str) -> tuple[str, ...]:
    return tuple(scripts(name).get_heads())


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_database_migrated_to_head_is_the_models(name: str, database_url: str) -> None:
    db = Database(database_url)
    try:
        db.create_schema(target_metadata(SCHEMAS[name]))
        assert current(db) == heads(name)
        with db.engine.connect() as conn:
            assert differences(conn, SCHEMAS[name]) == []
    finally:
        db.dispose()


@pytest.mark.parametrize("name", NAMES)
def test_revision_by_revision_from_empty_is_the_models_too(name: str, database_url: str) -> None:
    """An empty database takes the revisions rendered to SQL at once; one at a time (as an
    existing database does) they must come to the same schema."""
    db = Database(database_url)
    try:
        first = scripts(name).get_base()
        assert first is not None
        upgrade(db, SCHEMAS[name], first)
        upgrade(db, SCHEMAS[name])
        assert current(db) == heads(name)
        with db.engine.connect() as conn:
            assert differences(conn, SCHEMAS[name]) == []
    finally:
        db.dispose()


def test_the_revisions_are_named_by_their_database() -> None:
    for name in NAMES:
        for script in scripts(name).walk_revisions():
            assert script.revision.startswith(f"{name}_0"), script.path


def test_a_model_change_without_a_revision_is_a_difference(database_url: str) -> None:
    from services.catalogue.store import Base

    schema = SCHEMAS["catalogue"]
    db = Database(database_url)
    try:
        upgrade(db, schema)
        column = Base.metadata.tables["need"].c.description
        nullable = column.nullable
        column.nullable = not nullable  # as if the model had changed
        try:
            with db.engine.connect() as conn:
                found = differences(conn, schema)
        finally:
            column.nullable = nullable
        assert [d[0][0] for d in found] == ["modify_nullable"]
    finally:
        db.dispose()


def test_the_audit_log_stays_append_only_when_migrated(database_url: str) -> None:
    """The trigger services/referrals/audit.py installs with `create_all` is in referrals_0001."""
    from services.referrals.audit import AUDIT_LOG

    db = Database(database_url)
    try:
        upgrade(db, SCHEMAS["referrals"])
        row = {
            "at": datetime.now(UTC),
            "actor_id": "guide-anne",
            "role": "guide",
            "service": "referrals",
            "citizen_ref": "c-1",
            "what": "record",
            "purpose": "worklist",
        }
        with db.transaction() as session:
            session.execute(insert(AUDIT_LOG).values(row))
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(update(AUDIT_LOG).values(what="list"))
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(text("DELETE FROM audit_log"))
    finally:
        db.dispose()


def test_an_unversioned_database_of_this_code_is_stamped_head(database_url: str) -> None:
    """`create_all` of today's models (as tests and tools did): nothing to migrate, stamped."""
    db = Database(database_url)
    try:
        target_metadata(SCHEMAS["web"]).create_all(db.engine)
        upgrade(db, SCHEMAS["web"])
        assert current(db) == heads("web")
    finally:
        db.dispose()


def test_another_databases_revision_is_refused(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, SCHEMAS["web"])
        with pytest.raises(MigrationError, match="not one of the catalogue database's"):
            upgrade(db, SCHEMAS["catalogue"])
        assert current(db) == heads("web")
    finally:
        db.dispose()


def test_a_metadata_no_migration_owns_is_created_as_declared(database_url: str) -> None:
    from sqlalchemy import Column, String, Table

    metadata = MetaData()
    Table("effect", metadata, Column("event_id", String(64), primary_key=True))
    db = Database(database_url)
    try:
        db.create_schema(metadata)
        assert inspect(db.engine).get_table_names() == ["effect"]
    finally:
        db.dispose()


def test_concurrent_starts_migrate_once(database_url: str) -> None:
    """Four starts of one service at once on an empty database: each ends at head, none fails
    (PostgreSQL: the advisory lock; SQLite: the write lock taken by BEGIN IMMEDIATE)."""
    schema = SCHEMAS["notifications"]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        db = Database(database_url)
        try:
            barrier.wait()
            upgrade(db, schema)
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = Database(database_url)
    try:
        assert current(db) == heads("notifications")
        with db.engine.connect() as conn:
            assert differences(conn, schema) == []
    finally:
        db.dispose()


def test_a_start_on_a_migrated_sqlite_database_is_cheap(tmp_path: Path) -> None:
    """Not a timing assert: the cost is printed for the record (docs/operations.md). The
    referrals' is the largest schema."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    schema = SCHEMAS["referrals"]
    db = Database(url)
    try:
        started = time.perf_counter()
        upgrade(db, schema)
        empty = time.perf_counter() - started
        started = time.perf_counter()
        upgrade(db, schema)
        again = time.perf_counter() - started
        assert current(db) == heads("referrals")
    finally:
        db.dispose()
    print(f"referrals on SQLite: {empty * 1000:.1f} ms from empty, {again * 1000:.1f} ms at head")
