"""Writing what a run of ingested events adds, in one statement per table.

Through the ORM every new row is an object that is tracked, flushed column by column, and on
PostgreSQL sent as one statement per row (psycopg's `executemany`): two thirds of a run's
time went there (docs/referrals.md, "Bulk ingestion"). During a run (`Bulk.run`) the rows
that are only ever appended (timeline, outreach) are kept as plain values, and the rows it
creates (referrers, citizens, referrals) are objects the rules read and change but the
session does not hold yet; at the end each table gets one statement, and the new objects
join the session as stored rows. Outside a run (the use cases, the demo seeder) a new row
is added to the session and an appended one inserted at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import TypeVar, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from services.referrals.tables import Base
from shared.db import insert_rows

Row = dict[str, object]
M = TypeVar("M", bound=Base)
ORDER = {table: position for position, table in enumerate(Base.metadata.sorted_tables)}  # parents first


def new_row(model: type[M], **values: object) -> M:
    """A new row object with `values` set as plain data. The mapped constructor records a
    change event per attribute (22 µs for a referral, against 1.4 µs); a new row has no
    history to keep: the flush, and `Bulk`, insert what its dict holds."""
    row = manager_of_class(model).new_instance()
    row.__dict__.update(values)
    return cast(M, row)


def change_new_row(row: Base, values: Mapping[str, object]) -> None:
    """Change a row that is not stored yet (made by `new_row`, or pending in the session):
    it has no history either, and its dict is what its insert writes (a referral moved three
    times in the batch that creates it paid a change event per attribute and move)."""
    row.__dict__.update(values)


class Bulk:
    KEY = "referrals.bulk"

    def __init__(self) -> None:
        self.rows: dict[Table, list[Row]] | None = None  # None: no run is open
        self.new: dict[Base, None] = {}  # created in the run, in order
        self.stored: list[Base] = []  # written and joined to the session

    @classmethod
    def of(cls, session: Session) -> Bulk:
        bulk = session.info.get(cls.KEY)
        if not isinstance(bulk, Bulk):
            bulk = session.info[cls.KEY] = cls()
            event.listen(session, "after_soft_rollback", bulk._rolled_back)
        return bulk

    def _rolled_back(self, session: Session, _previous: SessionTransaction) -> None:
        # A row the session did not insert itself is not taken out of it by a rollback;
        # it may be gone from the database now, so the session forgets it (a later read
        # loads it again if it is still there).
        for row in self.stored:
            if row in session:
                session.expunge(row)
        self.stored.clear()

    @contextmanager
    def run(self, session: Session) -> Iterator[None]:
        """Write what the run added when it ends well; a refused event drops it all (its
        savepoint is rolled back, and what was written mid-run with it)."""
        self.rows, self.new = {}, {}
        try:
            yield
            self.write(session, join=False)
        finally:
            self.rows, self.new = None, {}

    def holds(self, row: Base) -> bool:
        return row in self.new

    def add(self, session: Session, row: Base) -> None:
        if self.rows is None:
            session.add(row)
        else:
            self.new[row] = None

    def append(self, session: Session, table: Table, row: Row) -> None:
        if self.rows is None:
            session.execute(insert(table), [row])
        else:
            self.rows.setdefault(table, []).append(row)

    def write(self, session: Session, *, join: bool = True) -> None:
        """Store what the run has added so far (before a query that must see it).

        Mid-run the new objects then join the session as loaded rows, as the rest of the
        run may change them. At its end they need not (1,500 objects took 26 ms to join):
        a later read loads what it needs (`Seen.get`).
        """
        if self.rows is None:
            return
        new, appended = list(self.new), self.rows
        self.rows, self.new = {}, {}
        by_table: dict[Table, list[Row]] = {}
        for row in new:
            by_table.setdefault(table_of(row), []).append(_values(row))
        for table, rows in appended.items():
            by_table.setdefault(table, []).extend(rows)
        for table in sorted(by_table, key=ORDER.__getitem__):
            insert_rows(session, table, by_table[table])
        if join:
            for row in new:
                make_transient_to_detached(row)
                session.add(row)
            self.stored.extend(new)


def table_of(model: type[Base] | Base) -> Table:
    return Base.metadata.tables[model.__tablename__]


def append(session: Session, table: Table, row: Row) -> None:
    Bulk.of(session).append(session, table, row)


Default = tuple[str, Callable[[object], object] | None, object]  # key, made by, or fixed value


@cache
def _defaults(table: Table) -> tuple[Default, ...]:
    """Each column's key and the value a row that does not set it gets, as the flush would
    write it (the database numbers an autoincrement key itself)."""
    found: list[Default] = []
    for column in table.columns:
        default = column.default
        if column is table.autoincrement_column:
            continue
        if isinstance(default, CallableColumnDefault):
            found.append((column.key, cast(Callable[[object], object], default.arg), None))  # ignores its context
        else:
            found.append((column.key, None, default.arg if isinstance(default, ScalarElementColumnDefault) else None))
    return tuple(found)


def _values(row: Base) -> Row:
    state = row.__dict__  # the object is about to be marked loaded: no history to record
    defaults = _defaults(table_of(row))
    for key, make, value in defaults:
        if key not in state:
            state[key] = value if make is None else make(None)
    return {key: state[key] for key, _, _ in defaults}
