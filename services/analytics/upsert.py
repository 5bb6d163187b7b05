"""Writing the projections: pending `projection.Changes` upserted in bulk, each group of
columns keeping its earliest or latest event (`specs.py`) in the database as in memory."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, case, delete, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.analytics.projection import Changes
from services.analytics.specs import SPECS, TableSpec
from services.analytics.store import Base
from shared.db import Database

PROJECTIONS: tuple[Table, ...] = tuple(Base.metadata.tables[spec.name] for spec in SPECS)


def _upsert(session: Session, spec: TableSpec, rows: list[dict[str, Any]]) -> None:
    table = Base.metadata.tables[spec.name]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    if not spec.groups:
        session.execute(stmt.on_conflict_do_nothing(index_elements=[spec.key]), rows)
        return
    new, old = stmt.excluded, table.c
    erased = None
    if spec.erase_with:
        erased = func.coalesce(old[spec.erase_with], new[spec.erase_with]).is_not(None)
    updates: dict[str, Any] = {}
    for group in spec.groups:
        newer = new[group.time] < old[group.time] if group.keep == "min" else new[group.time] > old[group.time]
        wins = and_(new[group.time].is_not(None), or_(old[group.time].is_(None), newer))
        for column in (group.time, *group.columns):
            if erased is not None and column in spec.erased_columns:
                updates[column] = case((erased, None), (wins, new[column]), else_=old[column])
            else:
                updates[column] = case((wins, new[column]), else_=old[column])
    session.execute(stmt.on_conflict_do_update(index_elements=[spec.key], set_=updates), rows)


def write(session: Session, changes: Changes) -> None:
    """Upsert every pending row; each group keeps its earliest/latest event as in `Changes`."""
    for spec in SPECS:
        rows = list(changes.rows[spec.name].values())
        if rows:
            _upsert(session, spec, rows)


def clear(session: Session) -> None:
    """Empty every projection (a rebuild starts from nothing)."""
    for table in PROJECTIONS:
        session.execute(delete(table))


def apply(db: Database, changes: Changes) -> None:
    """Write `changes` in a transaction of their own: the rebuild and the synthetic loader,
    which work on a bare database (no runtime, nothing to publish)."""
    with db.transaction() as session:
        write(session, changes)
