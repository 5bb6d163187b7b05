"""Writing what a run of ingested events adds, in one statement per table.

Through the ORM every new row is an object the flush inspects column by column, and on
PostgreSQL psycopg sends an `executemany` as one statement per row: two thirds of a run's
time went there (docs/referrals.md, "Bulk ingestion"). During a run (`Bulk.run`) the rows
that are only ever appended (timeline, outreach) are kept as plain values, and the referrers,
citizens and referrals it creates stay pending objects (the rules read and change them); at
the end each table gets one multi-row `INSERT`, and the new objects are attached to the
session as stored rows. Outside a run (the use cases, the demo seeder) an appended row is
inserted at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

import psycopg
from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from services.referrals.tables import Base

Row = dict[str, object]
ORDER = {table: position for position, table in enumerate(Base.metadata.sorted_tables)}  # parents first


class Bulk:
    KEY = "referrals.bulk"

    def __init__(self) -> None:
        self.rows: dict[Table, list[Row]] | None = None  # None: no run is open

    @classmethod
    def of(cls, session: Session) -> Bulk:
        bulk = session.info.get(cls.KEY)
        if not isinstance(bulk, Bulk):
            bulk = session.info[cls.KEY] = cls()
        return bulk

    @contextmanager
    def run(self, session: Session) -> Iterator[None]:
        """Keep appended rows until the run ends well; a refused event drops them (its
        savepoint is rolled back, and the pending objects with it)."""
        self.rows = {}
        try:
            yield
            rows, self.rows = self.rows, None
            _write(session, rows)
        finally:
            self.rows = None

    def append(self, session: Session, table: Table, row: Row) -> None:
        if self.rows is None:
            session.execute(insert(table), [row])
        else:
            self.rows.setdefault(table, []).append(row)


def table_of(model: type[Base] | Base) -> Table:
    return Base.metadata.tables[model.__tablename__]


def append(session: Session, table: Table, row: Row) -> None:
    Bulk.of(session).append(session, table, row)


def _write(session: Session, appended: dict[Table, list[Row]]) -> None:
    new = [row for row in session.new if isinstance(row, Base)]
    by_table: dict[Table, list[Row]] = {}
    for row in new:
        by_table.setdefault(table_of(row), []).append(_values(row))
        session.expunge(row)  # written below, not by a flush
    for table, rows in appended.items():
        by_table.setdefault(table, []).extend(rows)
    for table in sorted(by_table, key=ORDER.__getitem__):
        _insert(session, table, by_table[table])
    for row in new:  # now stored: attach as loaded, so nothing is flushed or read back
        make_transient_to_detached(row)
        session.add(row)


def _insert(session: Session, table: Table, rows: list[Row]) -> None:
    """One statement for all `rows` (each has the same keys), inserted in their order.

    The values are converted as SQLAlchemy would bind them, then handed to the driver: a
    multi-row VALUES cost psycopg 5 ms a page to rewrite, `unnest` of one array a column
    40 µs a row, SQLAlchemy's own `executemany` 30 µs a row on SQLite; COPY (PostgreSQL)
    and sqlite3's `executemany` take a few.
    """
    connection = session.connection()
    dialect = connection.dialect
    columns = [table.c[key] for key in rows[0]]
    bound = [(c.key, json.dumps if isinstance(c.type, JSON) else c.type.bind_processor(dialect)) for c in columns]
    values = [tuple(row[key] if process is None else process(row[key]) for key, process in bound) for row in rows]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(column.name) for column in columns)
    driver = connection.connection.driver_connection
    if isinstance(driver, psycopg.Connection):
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
    else:
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", values)


def _values(row: Base) -> Row:
    """Every column's value as the flush would write it: set, else the column's default."""
    values: Row = {}
    table = table_of(row)
    for column in table.columns:
        key = column.key
        if column is table.autoincrement_column and key not in row.__dict__:
            continue  # numbered by the database
        if key not in row.__dict__:
            default = column.default
            if isinstance(default, CallableColumnDefault):
                setattr(row, key, cast(Callable[[object], object], default.arg)(None))  # it ignores its context
            else:
                setattr(row, key, default.arg if isinstance(default, ScalarElementColumnDefault) else None)
        values[key] = row.__dict__[key]
    return values
