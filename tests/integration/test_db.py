"""Database units of work on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import DataError, IntegrityError

from shared.db import Database, UtcDateTime, insert_rows

metadata = MetaData()
things = Table("things", metadata, Column("n", Integer, primary_key=True), Column("at", UtcDateTime()))


def test_times_come_back_aware_and_in_utc(database_url: str) -> None:
    db = Database(database_url)
    db.create_schema(metadata)
    copenhagen_summer = timezone(timedelta(hours=2))
    with db.transaction() as session:
        session.execute(insert(things).values(n=1, at=datetime(2024, 6, 1, 12, 0, tzinfo=copenhagen_summer)))
    with db.read() as session:
        assert session.scalar(select(things.c.at)) == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(Exception, match="naive"), db.transaction() as session:
        session.execute(insert(things).values(n=2, at=datetime(2024, 6, 1, 12, 0)))
    db.dispose()


def test_bulk_rows_store_times_as_the_orm_does(database_url: str) -> None:
    """A bulk insert (COPY / executemany) and an ORM insert of the same instant compare equal:
    on SQLite a time is text, so both paths must write the same text."""
    db = Database(database_url)
    db.create_schema(metadata)
    at = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    with db.transaction() as session:
        session.execute(insert(things).values(n=1, at=at))
        insert_rows(session, things, [{"n": 2, "at": at}])
    with db.read() as session:
        assert session.scalars(select(things.c.n).where(things.c.at == at).order_by(things.c.n)).all() == [1, 2]
        assert session.scalars(select(things.c.n).where(things.c.at > at)).all() == []
    db.dispose()


def test_a_read_does_not_wait_for_an_open_write(database_url: str) -> None:
    db = Database(database_url)
    db.create_schema(metadata)
    writing, finish = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with db.transaction() as session:
            session.execute(insert(things).values(n=10, at=datetime.now(UTC)))
            writing.set()
            finish.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert writing.wait(10)
    try:
        with db.read() as session:  # would block for busy_timeout if it took the write lock
            assert session.scalar(select(things.c.n).where(things.c.n == 10)) is None  # not committed yet
    finally:
        finish.set()
        writer.join()
    with db.read() as session:
        assert session.scalar(select(things.c.n).where(things.c.n == 10)) == 10
    db.dispose()


def test_bulk_rows_convert_json_and_times_and_keep_the_rest(database_url: str) -> None:
    """insert_rows converts only the columns that need it (JSON, times), one column or many."""
    local = MetaData()
    table = Table("mixed", local, Column("n", Integer, primary_key=True), Column("at", UtcDateTime()))
    table.append_column(Column("doc", JSON))
    single = Table("single", local, Column("n", Integer, primary_key=True))
    db = Database(database_url)
    db.create_schema(local)
    summer = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with db.transaction() as session:
        insert_rows(session, table, [{"n": 1, "at": summer, "doc": {"æ": [1, None]}}, {"n": 2, "at": None, "doc": []}])
        # equal values of different types stay apart (each column converts a value once)
        insert_rows(session, table, [{"n": 3, "at": None, "doc": True}, {"n": 4, "at": None, "doc": 1}])
        insert_rows(session, single, [{"n": 7}, {"n": 8}])
    with db.read() as session:
        assert session.execute(select(table).order_by(table.c.n)).all() == [
            (1, datetime(2024, 6, 1, 10, 0, tzinfo=UTC), {"æ": [1, None]}),
            (2, None, []),
            (3, None, True),
            (4, None, 1),
        ]
        assert session.scalars(select(single.c.n).order_by(single.c.n)).all() == [7, 8]
    with pytest.raises(ValueError, match="naive"), db.transaction() as session:
        insert_rows(session, table, [{"n": 3, "at": datetime(2024, 6, 1), "doc": None}])
    db.dispose()


def test_a_bulk_row_that_breaks_a_unique_key_raises_integrity_error(database_url: str) -> None:
    """As the ORM would: callers that race (the key store making a citizen's key) catch it."""
    db = Database(database_url)
    db.create_schema(metadata)
    at = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    with db.transaction() as session:
        insert_rows(session, things, [{"n": 1, "at": at}])
    with pytest.raises(IntegrityError), db.transaction() as session:
        insert_rows(session, things, [{"n": 2, "at": at}, {"n": 1, "at": at}])
    with db.read() as session:
        assert session.scalars(select(things.c.n)).all() == [1]
    db.dispose()


def test_bulk_rows_keep_every_column_type(database_url: str) -> None:
    """On PostgreSQL the COPY is binary where every column's type is one it knows (each value
    sent as the server stores it) and text otherwise: both give back what went in."""
    local = MetaData()
    kinds = Table(
        "kinds",
        local,
        Column("n", BigInteger, primary_key=True),
        Column("small", SmallInteger),
        Column("whole", Integer),
        Column("flag", Boolean),
        Column("blob", LargeBinary),
        Column("day", Date),
        Column("at", UtcDateTime()),
        Column("doc", JSON),
        Column("name", String(5)),
        Column("body", Text),
        Column("ratio", Float),
    )
    other = Table("other", local, Column("n", Integer, primary_key=True), Column("amount", Numeric(10, 2)))
    db = Database(database_url)
    db.create_schema(local)
    at = datetime(2024, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)
    full = {
        "n": 2**40, "small": -3, "whole": 7, "flag": True, "blob": b"\x00\xff\\x", "day": date(2024, 2, 29),
        "at": at, "doc": {"æ": [1, None, "ø"]}, "name": "Høm", "body": "tab\tand\nline\\", "ratio": 0.25,
    }  # fmt: skip
    empty = {key: None for key in full} | {"n": 1}
    with db.transaction() as session:
        insert_rows(session, kinds, [full, empty])
        insert_rows(session, other, [{"n": 1, "amount": Decimal("12.50")}])
    with db.read() as session:
        assert [row._asdict() for row in session.execute(select(kinds).order_by(kinds.c.n))] == [
            empty | {"doc": None},
            full,
        ]
        assert session.scalar(select(other.c.amount)) == Decimal("12.50")
    if database_url.startswith("postgresql"):  # SQLite keeps any length
        with pytest.raises(DataError, match=r"character varying\(5\)"), db.transaction() as session:
            insert_rows(session, kinds, [empty | {"n": 3, "name": "Ringsted"}])
    db.dispose()
