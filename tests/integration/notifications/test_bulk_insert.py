"""The notifications store's conflicting bulk insert, on SQLite and PostgreSQL (staged through a
temporary table there): a taken key keeps the first row, the ids inserted come back, a
second insert in the same transaction does not write the first one's rows again, and a
rolled-back transaction leaves the next one working."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.notifications.store import Base
from services.notifications.store.bulk import insert_many
from services.notifications.store.work import NUDGE, insert_nudges
from shared.db import Database

NOW = datetime(2024, 3, 12, 10, tzinfo=UTC)


def nudge(nudge_id: str, key: str) -> dict[str, object]:
    return {
        "id": nudge_id, "dedup_key": key, "rule": "welcome_contact", "subject_id": "r1", "recipient_id": "community:c",
        "referral_id": "r1", "context": '{"navn":"Æble"}', "status": "pending", "created_at": NOW, "sent_at": None,
        "read_at": None,
    }  # fmt: skip


def test_a_taken_key_keeps_the_first_and_only_new_ids_come_back(database_url: str) -> None:
    db = Database(database_url)
    db.create_schema(Base.metadata)
    with db.transaction() as session:
        assert insert_nudges(session, [nudge("n1", "k1"), nudge("n2", "k2")]) == {"n1", "n2"}
        assert insert_nudges(session, [nudge("n3", "k2"), nudge("n4", "k4")]) == {"n4"}  # k2 is taken
    with pytest.raises(RuntimeError), db.transaction() as session:
        insert_nudges(session, [nudge("n5", "k5")])
        raise RuntimeError("the batch fails: nothing of it stays")
    with db.transaction() as session:
        assert insert_nudges(session, [nudge("n6", "k1"), nudge("n7", "k7")]) == {"n7"}
    with db.read() as session:
        stored = session.execute(select(NUDGE.c.id, NUDGE.c.dedup_key, NUDGE.c.context).order_by(NUDGE.c.id)).all()
    assert stored == [("n1", "k1", '{"navn":"Æble"}'), ("n2", "k2", '{"navn":"Æble"}'), ("n4", "k4", '{"navn":"Æble"}'),
                      ("n7", "k7", '{"navn":"Æble"}')]  # fmt: skip
    db.dispose()


def test_rows_may_leave_a_column_to_its_default(database_url: str) -> None:
    """A new timer has no id yet: the database numbers it (the staging table holds only the
    columns given, so it needs no value there)."""
    db = Database(database_url)
    db.create_schema(Base.metadata)
    timer = Base.metadata.tables["timer"]
    row = {"rule": "welcome_followup", "subject_id": "r1", "referral_id": "r1", "due_at": NOW, "status": "scheduled",
           "created_at": NOW, "settled_at": None}  # fmt: skip
    with db.transaction() as session:
        insert_many(session, timer, [row], "subject_id", "rule")
        insert_many(session, timer, [row, {**row, "subject_id": "r2"}], "subject_id", "rule")
    with db.read() as session:
        rows = session.execute(select(timer.c.id, timer.c.subject_id).order_by(timer.c.id)).all()
    assert [subject for _, subject in rows] == ["r1", "r2"]
    assert all(isinstance(number, int) for number, _ in rows)  # PostgreSQL's sequence skips the conflict's
    db.dispose()


def test_a_rolled_back_first_insert_leaves_the_next_one_working(database_url: str) -> None:
    """On PostgreSQL the staging table is made once per connection; made in a transaction that
    is rolled back, it is gone with it and must be made again (one connection in the pool, so
    the next transaction gets the same one)."""
    db = Database(database_url)
    db.create_schema(Base.metadata)
    db.engine.dispose()  # a new connection, which has made no staging table yet
    with pytest.raises(RuntimeError), db.transaction() as session:
        assert insert_nudges(session, [nudge("n1", "k1")]) == {"n1"}
        raise RuntimeError("rolled back with the table it made")
    for attempt in range(2):  # the second on a connection that made its table in a committed transaction
        with db.transaction() as session:
            assert insert_nudges(session, [nudge(f"m{attempt}", f"k{attempt}")]) == {f"m{attempt}"}
    with db.transaction() as session, session.begin_nested():  # a savepoint rolled back keeps it
        insert_nudges(session, [nudge("s1", "ks")])
        session.rollback()
    with db.transaction() as session:
        assert insert_nudges(session, [nudge("m2", "k2")]) == {"m2"}
    with db.read() as session:
        assert session.scalars(select(NUDGE.c.id).order_by(NUDGE.c.id)).all() == ["m0", "m1", "m2"]
    db.dispose()
