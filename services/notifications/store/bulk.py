"""Bulk statements on the DB-API cursor: a batch writes each table in one statement.

Rows that cannot conflict go through `shared.db.insert_rows` (COPY on PostgreSQL). Rows that
may meet a unique key (`ON CONFLICT DO NOTHING`), or whose inserted ids are wanted, need an
INSERT: SQLAlchemy's executemany spent more on per-row parameter handling than the database
on the rows, and psycopg's many-parameter statements more still; so did psycopg's dumping of
one array per column (a regular expression per element). On PostgreSQL those rows are copied
into a temporary staging table and inserted from it (a JSON document the server unpacked,
`jsonb_to_recordset`, took half as long again: 25 µs a nudge against 17), on SQLite they are
multi-row VALUES.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache

from sqlalchemy import Connection, Table, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from shared.db import bound_values, insert_rows, sqlite_values

CHUNK = 500  # ids per IN list, well within SQLite's parameter limit


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def insert_many(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, object]],
    *conflict: str,
    returning: str | None = None,
) -> set[object]:
    """Insert rows (all with the same keys), optionally ignoring conflicts on `conflict`.
    With `returning`, the values of that column in the rows actually inserted."""
    if not rows:
        return set()
    if not conflict and not returning:
        insert_rows(session, table, rows)  # COPY on PostgreSQL: two thirds of the JSON document's time a row
        return set()
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
    tail = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else ""
    tail += f" RETURNING {quote(returning)}" if returning else ""
    if connection.dialect.name == "postgresql":
        staging = _staged(connection, table, tuple(columns))
        insert_rows(session, table, rows, into=staging)
        # Emptied by the statement that reads it: the next insert finds it empty, in this
        # transaction or a later one.
        names = ", ".join(quote(c) for c in columns)
        result = connection.exec_driver_sql(
            f"WITH staged AS (DELETE FROM {staging} RETURNING {names}) {head}SELECT {names} FROM staged{tail}"
        )
        return {row[0] for row in result} if returning else set()
    returned = sqlite_values(connection, head, bound_values(connection, table, rows), tail)
    return {row[0] for row in returned} if returning else set()


STAGED = "vejviser.staged"  # Connection.info: the staging tables this database connection holds


def _staged(connection: Connection, table: Table, columns: tuple[str, ...]) -> str:
    """The temporary table a conflicting insert into `table` of `columns` is staged in, made
    once per database connection (asking for it every batch cost a round trip, 1 ms on a slow
    minute). A rollback may take a table it made with it: then it is asked for again."""
    staging, create = _staging(connection.dialect, table, columns)
    made = connection.info.setdefault(STAGED, set())
    if staging not in made:
        engine = connection.engine
        if not event.contains(engine, "rollback", _forget_staged):
            event.listen(engine, "rollback", _forget_staged)
            event.listen(engine, "rollback_savepoint", _forget_staged)
        connection.exec_driver_sql(create)
        made.add(staging)
    return staging


def _forget_staged(connection: Connection, *_: object) -> None:
    connection.info.pop(STAGED, None)


@cache
def _staging(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[str, str]:
    """The staging table's name and the statement that makes it. It has no keys or NOT NULL
    (a column left to its default is not one of its columns)."""
    quote = dialect.identifier_preparer.quote
    digest = zlib.crc32(",".join(columns).encode())
    name = quote(f"staged_{table.name}_{digest:08x}")
    definition = ", ".join(f"{quote(column)} {table.c[column].type.compile(dialect)}" for column in columns)
    return name, f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({definition})"
