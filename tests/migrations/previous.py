"""The previous release's databases for tests: a dump (make_previous_release.py) loaded into a
fresh SQLite file, or its rows copied into a PostgreSQL database migrated to `<schema>_0001`,
as the previous release would have written them there."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Integer, MetaData, create_engine, select, text

from shared.db import Database
from shared.migrations import SCHEMAS, scripts, upgrade

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "previous-release"


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def load_dump(schema: str, path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript((FIXTURES / f"{schema}.sql").read_text())


def previous_release_database(schema: str, url: str, scratch: Path) -> None:
    """Make `url` (empty) the database the previous release left: on SQLite the dump itself;
    on PostgreSQL the schema `<schema>_0001` with the dump's rows."""
    if url.startswith("sqlite"):
        load_dump(schema, sqlite_path(url))
        return
    source = scratch / f"{schema}-previous.db"
    load_dump(schema, source)
    db = Database(url)
    try:
        first = scripts(schema).get_base()
        assert first is not None
        upgrade(db, SCHEMAS[schema], first)
        copy_rows(source, db)
    finally:
        db.dispose()


def copy_rows(source: Path, target: Database) -> None:
    """Every row of the SQLite file into the same tables of `target`, parents first; the
    sequences of integer keys then continue after the copied rows, as they would have."""
    reader = create_engine(f"sqlite:///{source}")
    old = MetaData()
    old.reflect(reader)
    new = MetaData()
    new.reflect(target.engine)
    try:
        with reader.connect() as src, target.engine.begin() as dst:
            for table in new.sorted_tables:
                if table.name == "alembic_version":
                    continue
                aware = [c.name for c in table.columns if isinstance(c.type, DateTime)]
                rows = [dict(r._mapping) for r in src.execute(select(old.tables[table.name]))]
                for row in rows:  # SQLite keeps UTC without an offset
                    for name in aware:
                        value = row[name]
                        if isinstance(value, datetime) and value.tzinfo is None:
                            row[name] = value.replace(tzinfo=UTC)
                if rows:
                    dst.execute(table.insert(), rows)
                keys = list(table.primary_key.columns)
                if len(keys) == 1 and isinstance(keys[0].type, Integer) and rows:
                    dst.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{keys[0].name}'), :top)"),
                        {"top": max(r[keys[0].name] for r in rows)},
                    )
    finally:
        reader.dispose()
