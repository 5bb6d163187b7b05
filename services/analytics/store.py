"""Tables of the analytics service (its own database; no other service reads it): the
projections built from events, and the stored metric snapshots.

Times in projections are integer microseconds since the epoch (UTC), see `domain.to_us`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.analytics import assemble, columns
from services.analytics.domain import LONELINESS_BASE, READINESS_LEVELS, to_us
from services.analytics.snapshot import STAGES, Snapshot

ID = String(100)
R = TypeVar("R", bound=NamedTuple)


class Base(DeclarativeBase):
    metadata = MetaData()


class Actor(Base):
    __tablename__ = "an_actor"
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    activated_us: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str | None] = mapped_column(String(20))
    sector: Mapped[str | None] = mapped_column(String(100))
    area: Mapped[str | None] = mapped_column(String(100))
    activated_by: Mapped[str | None] = mapped_column(ID)
    citizen_ref: Mapped[str | None] = mapped_column(ID)


class Citizen(Base):
    """Pseudonymous attributes only; erased citizens keep nothing but the reference."""

    __tablename__ = "an_citizen"
    citizen_ref: Mapped[str] = mapped_column(ID, primary_key=True)
    registered_us: Mapped[int | None] = mapped_column(BigInteger)
    citizen_key: Mapped[int | None] = mapped_column(BigInteger)  # domain.citizen_key(citizen_ref)
    age_band: Mapped[str | None] = mapped_column(String(20))
    area: Mapped[str | None] = mapped_column(String(100))
    target_groups: Mapped[str | None] = mapped_column(Text)  # "|"-joined
    erased_us: Mapped[int | None] = mapped_column(BigInteger)


class Referral(Base):
    __tablename__ = "an_referral"
    referral_id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_us: Mapped[int | None] = mapped_column(BigInteger)
    citizen_ref: Mapped[str | None] = mapped_column(ID)
    # domain.citizen_key(citizen_ref); indexed to find an erased citizen's referrals
    citizen_key: Mapped[int | None] = mapped_column(BigInteger, index=True)
    community_id: Mapped[str | None] = mapped_column(ID)
    referrer_id: Mapped[str | None] = mapped_column(ID)
    needs_accompaniment: Mapped[bool | None] = mapped_column(Boolean)
    accepted_us: Mapped[int | None] = mapped_column(BigInteger)
    arranged_us: Mapped[int | None] = mapped_column(BigInteger)
    accompanied_us: Mapped[int | None] = mapped_column(BigInteger)
    welcomed_us: Mapped[int | None] = mapped_column(BigInteger)
    welcome_community_id: Mapped[str | None] = mapped_column(ID)
    rejected_us: Mapped[int | None] = mapped_column(BigInteger)
    rejection_reason: Mapped[str | None] = mapped_column(String(30))
    cancelled_us: Mapped[int | None] = mapped_column(BigInteger)
    participating_4w_us: Mapped[int | None] = mapped_column(BigInteger)
    participating_12w_us: Mapped[int | None] = mapped_column(BigInteger)
    no_show_us: Mapped[int | None] = mapped_column(BigInteger)
    loneliness_referral_us: Mapped[int | None] = mapped_column(BigInteger)
    loneliness_referral: Mapped[int | None] = mapped_column(Integer)  # 3..9, nothing else kept
    loneliness_week_12_us: Mapped[int | None] = mapped_column(BigInteger)
    loneliness_week_12: Mapped[int | None] = mapped_column(Integer)
    citizen_erased_us: Mapped[int | None] = mapped_column(BigInteger)  # its scores are gone for good


class Community(Base):
    __tablename__ = "an_community"
    community_id: Mapped[str] = mapped_column(ID, primary_key=True)
    area_us: Mapped[int | None] = mapped_column(BigInteger)
    area: Mapped[str | None] = mapped_column(String(100))
    kind_us: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str | None] = mapped_column(String(20))
    name_us: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(200))


class CapacityChange(Base):
    __tablename__ = "an_capacity"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(ID)
    time_us: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))


class Need(Base):
    __tablename__ = "an_need"
    need_id: Mapped[str] = mapped_column(ID, primary_key=True)
    time_us: Mapped[int | None] = mapped_column(BigInteger)
    area: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))


class Outreach(Base):
    __tablename__ = "an_outreach"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    time_us: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(30))
    count: Mapped[int] = mapped_column(Integer)
    area: Mapped[str | None] = mapped_column(String(100))


class Bridge(Base):
    __tablename__ = "an_bridge"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    citizen_ref: Mapped[str] = mapped_column(ID)
    from_community_id: Mapped[str] = mapped_column(ID)
    to_referral_id: Mapped[str] = mapped_column(ID)
    time_us: Mapped[int] = mapped_column(BigInteger)


class Nudge(Base):
    __tablename__ = "an_nudge"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    time_us: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(50))
    delivered: Mapped[bool] = mapped_column(Boolean)


class Readiness(Base):
    """The earliest evidence of each readiness level per referrer (`readiness.py` has the rule)."""

    __tablename__ = "an_readiness"
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    aware_us: Mapped[int | None] = mapped_column(BigInteger)
    trained_us: Mapped[int | None] = mapped_column(BigInteger)
    referring_us: Mapped[int | None] = mapped_column(BigInteger)
    accompanying_us: Mapped[int | None] = mapped_column(BigInteger)


class MetricsSnapshot(Base):
    """A stored nightly (or on-demand) computation: undisclosed metrics per named period;
    disclosure is applied when it is read, according to the reader's role."""

    __tablename__ = "an_snapshot"
    snapshot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    label: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)  # JSON: {"periods": {...}, "series": {...}}

    def content(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


def has_referrals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Referral).where(Referral.created_us.is_not(None))) or 0)


# --------------------------------------------------------------------------- reading


def _rows(session: Session, sql: str) -> list[tuple[Any, ...]]:
    # The driver's own cursor gives plain tuples: a million rows load in about a second,
    # where ORM objects or Row wrappers would take several.
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load_snapshot(session: Session, as_of: datetime) -> Snapshot:
    """Everything the metrics need as known at `as_of`, read as plain tuples and turned into
    columns once."""
    as_of_us = int(to_us(as_of))  # an int, so inlining it into the SQL below is safe
    # Which stages each referral reached by `as_of`, as one small int (bit i = STAGES[i]).
    stages = " + ".join(
        f"CASE WHEN {stage}_us <= {as_of_us} THEN {1 << bit} ELSE 0 END" for bit, stage in enumerate(STAGES)
    )
    actors = "SELECT actor_id, role, sector, activated_by, citizen_ref, activated_us FROM an_actor"
    # One narrow query for the citizens that have attributes left (erased ones have none).
    citizens = (
        "SELECT citizen_key, area, target_groups FROM an_citizen WHERE erased_us IS NULL "
        "AND (area IS NOT NULL OR (target_groups IS NOT NULL AND target_groups <> ''))"
    )
    # Both loneliness scores by `as_of` as one small int (`domain.LONELINESS_BASE`): mostly 0,
    # an int Python keeps cached, so a million of them cost next to nothing.
    scores = (
        f"CASE WHEN loneliness_referral_us <= {as_of_us} THEN loneliness_referral ELSE 0 END + "
        f"{LONELINESS_BASE} * CASE WHEN loneliness_week_12_us <= {as_of_us} THEN loneliness_week_12 ELSE 0 END"
    )
    referrals = (
        f"SELECT created_us, citizen_key, community_id, referrer_id, needs_accompaniment, {stages}, "
        f"CASE WHEN welcomed_us <= {as_of_us} THEN welcomed_us END, rejection_reason, {scores} "
        "FROM an_referral WHERE created_us IS NOT NULL"
    )
    levels = ", ".join(f"{level}_us" for level in READINESS_LEVELS)
    tables = columns.Tables(
        as_of_us=as_of_us,
        actors=columns.columns_of(columns.ActorColumns, _rows(session, actors)),
        citizens=columns.columns_of(columns.CitizenColumns, _rows(session, citizens)),
        referrals=columns.columns_of(columns.ReferralColumns, _rows(session, referrals)),
        communities=columns.columns_of(
            columns.CommunityColumns, _rows(session, "SELECT community_id, area, kind FROM an_community")
        ),
        capacity=_named(columns.CapacityRow, _rows(session, "SELECT community_id, time_us, status FROM an_capacity")),
        needs=_named(
            columns.NeedRow, _rows(session, "SELECT time_us, area, category FROM an_need WHERE time_us IS NOT NULL")
        ),
        outreach=_named(columns.OutreachRow, _rows(session, "SELECT time_us, kind, count FROM an_outreach")),
        bridges=_named(
            columns.BridgeRow, _rows(session, "SELECT citizen_ref, from_community_id, time_us FROM an_bridge")
        ),
        readiness=_named(columns.ReadinessRow, _rows(session, f"SELECT actor_id, {levels} FROM an_readiness")),
    )
    return assemble.build(tables)


def _named(row: type[R], rows: list[tuple[Any, ...]]) -> list[R]:
    return list(map(row._make, rows))


def needs_by_area(session: Session, start_us: int | None, end_us: int) -> dict[str, dict[str, int]]:
    """Unmet needs by area and category (the dashboard's map of what is missing where)."""
    query = select(Need.area, Need.category, func.count()).where(Need.time_us < end_us)
    if start_us is not None:
        query = query.where(Need.time_us >= start_us)
    result: dict[str, dict[str, int]] = {}
    for area, category, count in session.execute(query.group_by(Need.area, Need.category)):
        result.setdefault(area or "ukendt", {})[category or "ukendt"] = int(count)
    return result


# --------------------------------------------------------------------------- snapshots


def save_snapshot(session: Session, snapshot_id: str, computed_at: datetime, label: str, body: dict[str, Any]) -> None:
    session.add(
        MetricsSnapshot(
            snapshot_id=snapshot_id, computed_at=computed_at, label=label, body=json.dumps(body, ensure_ascii=False)
        )
    )


def list_snapshots(session: Session, limit: int = 100) -> list[MetricsSnapshot]:
    return list(
        session.scalars(
            select(MetricsSnapshot)
            .order_by(MetricsSnapshot.computed_at.desc(), MetricsSnapshot.snapshot_id)
            .limit(limit)
        )
    )


def get_snapshot(session: Session, snapshot_id: str) -> MetricsSnapshot | None:
    return session.get(MetricsSnapshot, snapshot_id)


def latest_snapshot(session: Session) -> MetricsSnapshot | None:
    snapshots = list_snapshots(session, limit=1)
    return snapshots[0] if snapshots else None
