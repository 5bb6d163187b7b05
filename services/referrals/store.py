"""Tables and queries of the referrals service (its own database; no other service reads it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.referrals.domain import AWAITING, ReferralState, Status
from shared.db import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012


class Community(Base):
    """Local copy of the catalogue's communities, kept from catalogue events."""

    __tablename__ = "community"
    community_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    area: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="permanent")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    accepts_special_needs: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity_status: Mapped[str] = mapped_column(String(20), default="open")
    capacity_available: Mapped[int | None] = mapped_column(Integer)
    capacity_total: Mapped[int | None] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class Referrer(Base):
    __tablename__ = "referrer"
    actor_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(40))
    organization: Mapped[str | None] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    offers_accompaniment: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    activated_by: Mapped[str | None] = mapped_column(String(100), index=True)
    activated_at: Mapped[datetime]
    citizen_ref: Mapped[str | None] = mapped_column(String(100))
    readiness: Mapped[str | None] = mapped_column(String(20))
    readiness_at: Mapped[datetime | None]


class Citizen(Base):
    """A pseudonymous citizen. Contact data only as ciphertext; attributes only with consent."""

    __tablename__ = "citizen"
    citizen_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    age_band: Mapped[str | None] = mapped_column(String(20))
    area: Mapped[str | None] = mapped_column(String(200))
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_purpose: Mapped[str | None] = mapped_column(Text)
    consent_date: Mapped[datetime | None]
    consent_recorded_by: Mapped[str | None] = mapped_column(String(200))
    registered_by: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]


class ContactAudit(Base):
    """Every read of a citizen's record or contact data: who, when, why."""

    __tablename__ = "contact_audit"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    citizen_ref: Mapped[str] = mapped_column(String(100), index=True)
    actor_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30))
    what: Mapped[str] = mapped_column(String(20))  # "contact" | "record"
    purpose: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Referral(Base):
    __tablename__ = "referral"
    referral_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    citizen_ref: Mapped[str] = mapped_column(ForeignKey("citizen.citizen_ref"), index=True)
    community_id: Mapped[str] = mapped_column(String(100), index=True)
    referrer_id: Mapped[str] = mapped_column(String(100), index=True)
    needs_accompaniment: Mapped[bool] = mapped_column(Boolean, default=False)
    special_considerations: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    override_full: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    companion_id: Mapped[str | None] = mapped_column(String(100), index=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(20))
    participation: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]

    def state(self) -> ReferralState:
        return ReferralState(
            referral_id=self.referral_id,
            community_id=self.community_id,
            status=Status(self.status),
            updated_at=self.updated_at,
            companion_id=self.companion_id,
            participation={int(k): v for k, v in (self.participation or {}).items()},
            rejection_reason=self.rejection_reason,
        )


class TimelineEntry(Base):
    """One event in a referral's life, at its event time (back-dated events keep their time)."""

    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(String(100), index=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class Outreach(Base):
    __tablename__ = "outreach"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    count: Mapped[int] = mapped_column(Integer)
    area: Mapped[str | None] = mapped_column(String(200))
    time: Mapped[datetime]


class Bridge(Base):
    __tablename__ = "bridge"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    citizen_ref: Mapped[str] = mapped_column(String(100), index=True)
    from_community_id: Mapped[str] = mapped_column(String(100))
    to_referral_id: Mapped[str] = mapped_column(String(100), unique=True)
    time: Mapped[datetime]


# ---------------------------------------------------------------------- queries


class StaleReferral(Exception):
    """Someone else changed the referral between our read and our write."""


def save_state(session: Session, referral: Referral, state: ReferralState) -> None:
    """Write a transition with optimistic locking: `UPDATE … WHERE version = :read_version`.

    Exactly one of two concurrent transitions matches the version it read; the other's
    UPDATE matches no row (on PostgreSQL it waits for the winner's commit, then re-checks
    the WHERE clause), and it gives up with StaleReferral.
    """
    read_version = referral.version
    result = session.execute(
        update(Referral)
        .where(Referral.referral_id == referral.referral_id, Referral.version == read_version)
        .values(
            status=state.status.value,
            companion_id=state.companion_id,
            rejection_reason=state.rejection_reason,
            participation={str(k): v for k, v in state.participation.items()},
            updated_at=state.updated_at,
            version=read_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleReferral(referral.referral_id)
    session.expire(referral)


def referral_for_update(session: Session, referral_id: str) -> Referral | None:
    return session.get(Referral, referral_id, populate_existing=True)


def list_referrals(
    session: Session,
    *,
    status: Sequence[str] = (),
    referrer_id: str | None = None,
    community_ids: Sequence[str] | None = None,
    citizen_ref: str | None = None,
    visible_to_actor: str | None = None,
    overdue_days: int | None = None,
    now: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Referral]:
    query = select(Referral)
    if status:
        query = query.where(Referral.status.in_(list(status)))
    if referrer_id:
        query = query.where(Referral.referrer_id == referrer_id)
    if community_ids is not None:
        query = query.where(Referral.community_id.in_(list(community_ids)))
    if citizen_ref:
        query = query.where(Referral.citizen_ref == citizen_ref)
    if visible_to_actor:
        query = query.where((Referral.referrer_id == visible_to_actor) | (Referral.companion_id == visible_to_actor))
    if overdue_days is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=overdue_days)
        query = query.where(Referral.status.in_([s.value for s in AWAITING]), Referral.updated_at <= cutoff)
    query = query.order_by(Referral.created_at.desc(), Referral.referral_id).limit(limit).offset(offset)
    return list(session.scalars(query))


def companion_candidates(session: Session, month_start: datetime) -> list[tuple[Referrer, set[str], int]]:
    """Referrers who offer accompaniment, with the categories they accompanied to before and
    how many accompaniments they have this month."""
    referrers = list(session.scalars(select(Referrer).where(Referrer.offers_accompaniment.is_(True))))
    if not referrers:
        return []
    ids = [r.actor_id for r in referrers]
    rows = session.execute(
        select(Referral.companion_id, Referral.updated_at, Community.categories)
        .join(Community, Community.community_id == Referral.community_id, isouter=True)
        .where(
            Referral.companion_id.in_(ids),
            Referral.status.in_(
                [
                    Status.accompaniment_arranged.value,
                    Status.accompanied.value,
                    Status.welcomed.value,
                    Status.participating.value,
                    Status.ended.value,
                ]
            ),
        )
    ).all()
    categories: dict[str, set[str]] = {i: set() for i in ids}
    this_month: dict[str, int] = dict.fromkeys(ids, 0)
    # Accompaniments this month are counted from the timeline (the arrangement's event time).
    arranged = session.execute(
        select(Referral.companion_id, func.count())
        .select_from(TimelineEntry)
        .join(Referral, Referral.referral_id == TimelineEntry.referral_id)
        .where(
            TimelineEntry.event_type.in_(["AccompanimentArranged", "CitizenAccompanied"]),
            TimelineEntry.time >= month_start,
            Referral.companion_id.in_(ids),
        )
        .group_by(Referral.companion_id, Referral.referral_id)
    ).all()
    for companion_id, _count in arranged:
        if companion_id is not None:
            this_month[companion_id] += 1
    for companion_id, _at, cats in rows:
        if companion_id is not None:
            categories[companion_id].update(cats or [])
    return [(r, categories[r.actor_id], this_month[r.actor_id]) for r in referrers]


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Referrer)) == 0


def community_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Community).where(Community.archived.is_(False))) or 0)
