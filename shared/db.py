"""Database engine and sessions (SQLAlchemy 2, synchronous).

Why synchronous: every query here is short, FastAPI runs plain `def` endpoints in its thread
pool, and consumers hand whole batches to a thread, so one code path serves SQLite and
PostgreSQL without async driver differences.

Schema: each service migrates its database to head at start-up (Alembic, one history per
database: shared/migrations.py; docs/operations.md, "Migrations"). `Database.create_schema`
does the same for any metadata, so a test or a tool that makes a service's tables gets the
migrated schema, never a `create_all` one beside it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from shared.pool_ping import ping_when_idle


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every dialect (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the API threads read while a consumer writes; busy_timeout turns brief lock
    # contention into a wait instead of "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # A deleted row's bytes are zeroed, not left in free pages until overwritten: an erased
    # citizen's ciphertext or an outbox copy must not live on in a copy of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's implicit transaction handling defers BEGIN; emit it ourselves so a
        # read-then-write transaction takes the write lock up front (no upgrade deadlocks).
        # Read-only units of work (`Database.read()`) begin deferred and never wait for writers.
        event.listen(engine, "begin", _sqlite_begin)

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    ping_when_idle(engine)  # rather than `pool_pre_ping`: see shared/pool_ping.py
    return engine


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, object]], *, into: str = "") -> None:
    """Insert `rows` (each with the same keys) into `table` (or the table `into` that has the
    same columns: a temporary staging table), in their order, in the session's transaction.

    The values are converted as SQLAlchemy would bind them, then handed to the driver: COPY
    on PostgreSQL, multi-row VALUES on SQLite. Measured per row on this machine: SQLAlchemy's
    `executemany` 30 µs (SQLite) and one statement a row (psycopg); `unnest` of one array a
    column 40 µs; sqlite3's `executemany` 6 µs, multi-row VALUES 3.
    """
    if not rows:
        return
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    values = bound_values(connection, table, rows)
    names = ", ".join(quote(table.c[key].name) for key in rows[0])
    driver = connection.connection.driver_connection
    if isinstance(driver, psycopg.Connection):
        types = copy_types(table, tuple(rows[0]))
        target = quote(into or table.name)
        statement = f"COPY {target} ({names}) FROM STDIN{'' if types is None else ' (FORMAT BINARY)'}"
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                if types is not None:
                    copy.set_types(types)
                for value in values:
                    copy.write_row(value)
        except psycopg.Error as exc:  # as SQLAlchemy raises it for its own statements (IntegrityError, …)
            raise DBAPIError.instance(statement, None, exc, psycopg.Error, dialect=connection.dialect) from exc
    else:
        sqlite_values(connection, f"INSERT INTO {quote(into or table.name)} ({names}) ", values)


def bound_values(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]
) -> list[tuple[object, ...]]:
    """The rows' values (in the first row's key order) as the driver takes them."""
    dialect = connection.dialect
    columns = [table.c[key] for key in rows[0]]
    # The dialect's own implementation: a TypeDecorator's generic processor would hand SQLite an
    # aware datetime, which sqlite3 writes as "…+00:00" where the ORM writes "….000000".
    processors = [
        json.dumps if isinstance(c.type, JSON) else c.type.dialect_impl(dialect).bind_processor(dialect)
        for c in columns
    ]
    return _values(rows, list(rows[0]), processors)


# A column's PostgreSQL type (as SQLAlchemy writes it, without length or collation) and the
# type psycopg dumps its values as in a binary COPY. The server reads each field with the
# column's own receive function, and varchar's and json's read the text as text's does (a
# JSON value is already text here: `bound_values` serialises it as SQLAlchemy would).
_POSTGRESQL = postgresql.dialect()
_BINARY_COPY = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "BOOLEAN": "bool",
    "BYTEA": "bytea",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "FLOAT": "float8",
    "DOUBLE PRECISION": "float8",
    "VARCHAR": "text",
    "TEXT": "text",
    "JSON": "text",
}


@functools.cache
def copy_types(table: Table, keys: tuple[str, ...]) -> list[str] | None:
    """The types a binary COPY of these columns dumps as; None when a column's type is not one
    it knows (the COPY is text then). Binary: a quarter of text's client time a row (1.5 µs
    against 6.2 for the outbox's rows, whose payload text COPY escapes byte by byte)."""
    types = []
    for key in keys:
        compiled = table.c[key].type.compile(dialect=_POSTGRESQL)
        name = _BINARY_COPY.get(compiled.split("(")[0].split(" COLLATE ")[0].strip())
        if name is None:
            return None
        types.append(name)
    return types


def among(
    session: Session, column: ColumnElement[str] | InstrumentedAttribute[str], values: Sequence[str]
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL the values travel as one JSON array (SQLAlchemy
    rendered, and psycopg bound, each of a batch's hundreds of ids one by one: psycopg dumps
    a list element by element in Python, where `json.dumps` is one C call)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.in_(select(func.jsonb_array_elements_text(json_array(values))))
    return column.in_(values)


def json_array(values: Sequence[str]) -> ColumnElement[Any]:
    """`values` as one bound JSONB array (PostgreSQL)."""
    return cast(bindparam(None, json.dumps(list(values)), type_=Text), JSONB)


SQLITE_PARAMETERS = 30_000  # per statement, within SQLite's limit (32,766)


def sqlite_values(
    connection: Connection, head: str, values: Sequence[tuple[object, ...]], tail: str = ""
) -> list[Sequence[object]]:
    """`<head>VALUES (…), (…)<tail>` on SQLite, as few statements as its parameter limit
    allows; the rows any RETURNING in `tail` gives."""
    if not values:
        return []
    width = len(values[0])
    one = f"({', '.join(['?'] * width)})"
    per_statement = max(1, SQLITE_PARAMETERS // width)
    returned: list[Sequence[object]] = []
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        flat = tuple(chain.from_iterable(chunk))
        result = connection.exec_driver_sql(f"{head}VALUES {', '.join([one] * len(chunk))}{tail}", flat)
        if result.returns_rows:
            returned.extend(result.all())
    return returned


def _values(
    rows: Sequence[Mapping[str, object]], keys: list[str], processors: Sequence[Callable[[Any], Any] | None]
) -> list[tuple[object, ...]]:
    """Each row's values in `keys` order, converted where a column has a processor (a row
    at a time in C, then only the columns that need it: a third of the per-value loop)."""
    take = itemgetter(*keys)
    tuples = [take(row) for row in rows] if len(keys) > 1 else [(row[keys[0]],) for row in rows]
    convert = [(position, _memo(process)) for position, process in enumerate(processors) if process is not None]
    if not convert:
        return tuples
    converted: list[tuple[object, ...]] = []
    for values in tuples:
        row = list(values)
        for position, process in convert:
            row[position] = process(row[position])
        converted.append(tuple(row))
    return converted


def _memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The column's processor, run once per distinct value: a batch's rows share a few
    timestamps (now, the event times), and converting each copy cost more than writing it."""
    seen: dict[tuple[type, object], object] = {}

    def run(value: object) -> object:
        key = (type(value), value)  # True and 1 are equal, and a JSON column writes them apart
        try:
            return seen[key]
        except KeyError:
            seen[key] = result = process(value)
            return result
        except TypeError:  # unhashable (a JSON list or object)
            return process(value)

    return run


@contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """A new PostgreSQL database `name` on the server `server_url` reaches, dropped (with its
    connections) afterwards: for tests and benchmarks that need a database of their own."""
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{conninfo.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_begin(conn: Connection) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "vejviser_read_only"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self, metadata: MetaData) -> None:
        """A service's tables migrated to head; the tables of a metadata no migration owns (a
        test's or a benchmark's own) created as they are declared."""
        from shared.migrations import migrate  # it imports this module

        migrate(self, metadata)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: on SQLite it does not take the write lock (WAL readers run
        beside a writer), so searches and listings never queue behind a consumer's batch."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session
            conn.rollback()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def forget_wal(self) -> bool:
        """SQLite: move the write-ahead log into the database file and truncate it, so the old
        page images it holds (a deleted row as it was) are gone from disk. True when done; a
        reader holding an old snapshot makes it wait for the next call. Nothing on PostgreSQL,
        whose logical backups (pg_dump) never carry deleted rows."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as conn:  # on the driver's connection: outside any BEGIN
            driver = conn.connection.driver_connection
            assert driver is not None
            busy = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return busy == 0

    def dispose(self) -> None:
        self.engine.dispose()
