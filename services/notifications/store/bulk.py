"""Bulk statements on the DB-API cursor: a batch writes each table in one statement.

Rows that cannot conflict go through `shared.db.insert_rows` (COPY on PostgreSQL). Rows that
may meet a unique key (`ON CONFLICT DO NOTHING`), or whose inserted ids are wanted, need an
INSERT: SQLAlchemy's executemany spent more on per-row parameter handling than the database
on the rows, and psycopg's many-parameter statements more still; so did psycopg's dumping of
one array per column (a regular expression per element). PostgreSQL gets those rows as one
JSON document (`jsonb_to_recordset`; encoding it is one C call), SQLite multi-row VALUES.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import ColumnElement, Connection, Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from shared.db import bound_values, insert_rows, sqlite_values

CHUNK = 500  # ids per IN list, well within SQLite's parameter limit


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def among(session: Session, column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL the values travel as one JSON array (SQLAlchemy
    rendered, and psycopg bound, each of a batch's hundreds of ids one by one)."""
    if session.get_bind().dialect.name == "postgresql":
        document = cast(bindparam(None, json.dumps(list(values)), type_=Text), JSONB)
        return column.in_(select(func.jsonb_array_elements_text(document)))
    return column.in_(values)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written in bulk")


def _document(rows: Sequence[Mapping[str, object]]) -> str:
    """The rows as one JSON array of objects, times as ISO strings (each distinct one once)."""
    seen: dict[object, str] = {}

    def encode(value: object) -> str:
        try:
            return seen[value]
        except KeyError:
            seen[value] = text = _iso(value)
            return text

    return json.dumps(rows, default=encode, ensure_ascii=False, separators=(",", ":"))


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
        result = _postgresql(connection, table, columns, rows, head, tail)
        return {row[0] for row in result} if returning else set()
    returned = sqlite_values(connection, head, bound_values(connection, table, rows), tail)
    return {row[0] for row in returned} if returning else set()


def _postgresql(
    connection: Connection, table: Table, columns: list[str], rows: Sequence[Mapping[str, object]], head: str, tail: str
) -> Iterable[Sequence[object]]:
    select = _from_document(connection.dialect, table, tuple(columns))
    return connection.exec_driver_sql(f"{head}{select}{tail}", (_document(rows),))


@cache
def _from_document(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    """`SELECT <columns> FROM` the rows' JSON document, typed as the table's columns (compiling
    each column's type every batch cost more than the statement's parameters)."""
    quote = dialect.identifier_preparer.quote
    record = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect)}" for name in columns)
    return f"SELECT {', '.join(quote(c) for c in columns)} FROM jsonb_to_recordset(%s::jsonb) AS r({record})"
