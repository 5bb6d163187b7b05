"""Writing the projections: pending `projection.Changes` upserted in bulk, each group of
columns keeping its earliest or latest event (`specs.py`) in the database as in memory, and
an erased citizen's referrals' loneliness scores forgotten (`forget_scores`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.analytics.domain import citizen_key
from services.analytics.projection import Changes
from services.analytics.specs import CITIZENS, LONELINESS_COLUMNS, REFERRALS, SPECS, TableSpec
from services.analytics.store import Base
from shared.db import Database

PROJECTIONS: tuple[Table, ...] = tuple(Base.metadata.tables[spec.name] for spec in SPECS)
CITIZEN: Table = Base.metadata.tables[CITIZENS.name]
REFERRAL: Table = Base.metadata.tables[REFERRALS.name]


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
    """Upsert every pending row; each group keeps its earliest/latest event as in `Changes`;
    then forget the scores of erased citizens' referrals."""
    for spec in SPECS:
        rows = list(changes.rows[spec.name].values())
        if rows:
            _upsert(session, spec, rows)
    forget_scores(session, changes)


def forget_scores(session: Session, changes: Changes) -> None:
    """Mark the referrals of every erased citizen these changes touch (`citizen_erased_us`) and
    null their loneliness scores: those erased now, and those whose referral arrived now after
    the erasure (a late or back-dated `ReferralCreated`). Once marked, the upsert keeps any
    later score out (`specs.REFERRALS.erase_with`), so the order of events does not matter.

    One primary-key look-up per citizen the batch names, and an update by the indexed citizen
    key only when one of them is erased: a rebuild pays next to nothing for it."""
    named = set(changes.erased)
    named.update(row["citizen_ref"] for row in changes.rows[REFERRALS.name].values() if row["citizen_ref"])
    erased: dict[str, int] = {}
    for chunk in _chunks(sorted(named)):
        query = select(CITIZEN.c.citizen_ref, CITIZEN.c.erased_us).where(
            CITIZEN.c.citizen_ref.in_(chunk), CITIZEN.c.erased_us.is_not(None)
        )
        erased.update((ref, erased_us) for ref, erased_us in session.execute(query).tuples())
    if not erased:
        return
    referral = REFERRAL.c
    session.execute(
        update(REFERRAL)
        .where(referral.citizen_key == bindparam("match_key"), referral.citizen_ref == bindparam("match_ref"))
        .values(
            citizen_erased_us=func.coalesce(referral.citizen_erased_us, bindparam("erased_at_us")),
            **dict.fromkeys(LONELINESS_COLUMNS),
        ),
        [
            {"match_key": citizen_key(ref), "match_ref": ref, "erased_at_us": erased_us}
            for ref, erased_us in sorted(erased.items())
        ],
    )


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def clear(session: Session) -> None:
    """Empty every projection (a rebuild starts from nothing)."""
    for table in PROJECTIONS:
        session.execute(delete(table))


def apply(db: Database, changes: Changes) -> None:
    """Write `changes` in a transaction of their own: the rebuild and the synthetic loader,
    which work on a bare database (no runtime, nothing to publish)."""
    with db.transaction() as session:
        write(session, changes)
