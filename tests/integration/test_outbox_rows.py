"""The outbox table on SQLite and PostgreSQL: rows a batch gathers are written at once, in the
order they were staged, or not at all; the rows set aside are counted through their index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, event, select
from sqlalchemy.engine import Connection

from shared.db import Database
from shared.events import Envelope
from shared.events.referrals import ReferralAccepted
from shared.outbox import Outbox

SOURCE = "/services/referrals"


def accepted(index: int) -> Envelope:
    return Envelope.wrap(ReferralAccepted(referral_id=f"r-{index}"), source=SOURCE, id=f"e-{index:03d}")


def stored(db: Database, outbox: Outbox) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(outbox.table.c.event_id).order_by(outbox.table.c.position)))


def outbox_in(database_url: str) -> tuple[Database, Outbox]:
    metadata = MetaData()
    outbox = Outbox(metadata)
    db = Database(database_url)
    db.create_schema(metadata)
    return db, outbox


def test_gathered_rows_are_written_at_the_block_s_end_in_staging_order(database_url: str) -> None:
    db, outbox = outbox_in(database_url)
    with db.transaction() as session:
        outbox.add(session, accepted(0))  # outside a block: written at once
        with outbox.gathered(session):
            outbox.add(session, accepted(1), accepted(2))
            with outbox.gathered(session):  # an inner block leaves the writing to the outer
                outbox.add(session, accepted(3))
            assert session.scalar(select(outbox.table.c.event_id).where(outbox.table.c.event_id != "e-000")) is None
            outbox.add(session, accepted(4))
    assert stored(db, outbox) == ["e-000", "e-001", "e-002", "e-003", "e-004"]
    db.dispose()


def test_a_failing_block_leaves_none_of_its_rows(database_url: str) -> None:
    db, outbox = outbox_in(database_url)
    with db.transaction() as session:
        with pytest.raises(RuntimeError), session.begin_nested(), outbox.gathered(session):
            outbox.add(session, accepted(1))
            raise RuntimeError("a refused event")
        with session.begin_nested(), outbox.gathered(session):  # the batch again, event by event
            outbox.add(session, accepted(2))
    assert stored(db, outbox) == ["e-002"]
    db.dispose()


def test_the_rows_set_aside_are_counted_through_their_own_index(tmp_path: Path) -> None:
    """Readiness and every metrics scrape count them: a scan of the outbox, which keeps the
    sent rows for hours, would grow with the traffic (SQLite's plan is deterministic)."""
    db, outbox = outbox_in(f"sqlite:///{tmp_path / 'outbox.db'}")
    plans: list[str] = []

    def explain(conn: Connection, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if "failed_at IS NOT NULL" in statement and statement.lstrip().upper().startswith("SELECT"):
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()  # type: ignore[arg-type]
            plans.append(" ".join(str(row[-1]) for row in rows))

    with db.read() as session:
        event.listen(db.engine, "before_cursor_execute", explain)
        try:
            backlog = outbox.backlog(session)
        finally:
            event.remove(db.engine, "before_cursor_execute", explain)
    assert backlog.set_aside == 0
    assert plans and all("ix_outbox_set_aside" in plan for plan in plans), plans
    db.dispose()
