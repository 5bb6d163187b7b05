"""Database units of work on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import IntegrityError

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
