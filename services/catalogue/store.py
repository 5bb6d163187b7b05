"""Tables of the catalogue service (its own database; no other service reads it)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    func,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

from services.catalogue.domain import ContactPerson

ID = String(64)


class Base(DeclarativeBase):
    metadata = MetaData()


class Organization(Base):
    """An association, municipal unit, private business or housing association (HSDS organization)."""

    __tablename__ = "organization"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hsds_id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Community(Base):
    """A community (HSDS service) with its location, welcome contact and capacity.

    One location per community: every community in the programme meets in one place, and the
    HSDS export turns it into one service_at_location.
    """

    __tablename__ = "community"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hsds_id: Mapped[str] = mapped_column(String(36), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    cost: Mapped[str | None] = mapped_column(String(200))
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    accessibility: Mapped[str | None] = mapped_column(Text)
    accepts_special_needs: Mapped[bool] = mapped_column(Boolean, default=False)
    accompaniment_welcome: Mapped[bool] = mapped_column(Boolean, default=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # The contact person consented to be shown in the public feeds (HSDS); staff always see them.
    contact_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # the location
    place_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    area: Mapped[str] = mapped_column(String(100), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # capacity
    capacity_total: Mapped[int | None] = mapped_column(Integer)
    capacity_available: Mapped[int | None] = mapped_column(Integer)
    capacity_status: Mapped[str] = mapped_column(String(10), default="open")
    capacity_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The catalogue revision of the last change: search indexes catch up from it.
    revision: Mapped[int] = mapped_column(Integer, index=True, default=0)

    organization: Mapped[Organization] = relationship(lazy="joined")
    schedules: Mapped[list[ScheduleRow]] = relationship(
        cascade="all, delete-orphan", order_by="ScheduleRow.position", lazy="selectin"
    )

    @property
    def contact_person(self) -> ContactPerson:
        return ContactPerson(self.contact_name, self.contact_email, self.contact_phone, bool(self.contact_public))


class ScheduleRow(Base):
    __tablename__ = "schedule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    freq: Mapped[str] = mapped_column(String(10))
    weekday: Mapped[str] = mapped_column(String(3))
    week_of_month: Mapped[int | None] = mapped_column(Integer)
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)


class Need(Base):
    """An unmet need a guide heard about: what is missing, where."""

    __tablename__ = "need"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    area: Mapped[str] = mapped_column(String(100), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NetworkMeeting(Base):
    __tablename__ = "network_meeting"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(300))
    organizer_id: Mapped[str] = mapped_column(ID)
    organization_ids: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingReferral(Base):
    """Referral id → community, from the referrals stream, so referrers can see pressure.

    `state` is terminal once the referral is welcomed, rejected or cancelled; a late
    ReferralCreated (events of different referrals may interleave) never reopens it.
    """

    __tablename__ = "referral_pressure"
    referral_id: Mapped[str] = mapped_column(ID, primary_key=True)
    community_id: Mapped[str | None] = mapped_column(ID, index=True)
    state: Mapped[str] = mapped_column(String(12))


class Revision(Base):
    __tablename__ = "catalogue_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------------- queries


def ensure_revision(session: Session) -> None:
    if session.get(Revision, 1) is None:
        session.add(Revision(id=1, value=0))


def bump_revision(session: Session) -> int:
    """Next catalogue revision; the row lock orders concurrent writers (commit order)."""
    session.execute(update(Revision).where(Revision.id == 1).values(value=Revision.value + 1))
    return int(session.scalar(select(Revision.value).where(Revision.id == 1)) or 0)


def current_revision(session: Session) -> int:
    return int(session.scalar(select(Revision.value).where(Revision.id == 1)) or 0)


def communities_changed_since(session: Session, revision: int) -> list[Community]:
    query = (
        select(Community)
        .where(Community.revision > revision)
        .options(selectinload(Community.schedules))
        .order_by(Community.revision)
    )
    return list(session.scalars(query).unique())


def pending_counts(session: Session, community_ids: list[str]) -> dict[str, int]:
    if not community_ids:
        return {}
    rows = session.execute(
        select(PendingReferral.community_id, func.count())
        .where(PendingReferral.state == "pending", PendingReferral.community_id.in_(community_ids))
        .group_by(PendingReferral.community_id)
    )
    return {str(cid): int(n) for cid, n in rows}


def community_by_hsds_id(session: Session, hsds_id: str) -> Community | None:
    return session.scalar(select(Community).where(Community.hsds_id == hsds_id.lower()))


def organization_by_hsds_id(session: Session, hsds_id: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.hsds_id == hsds_id.lower()))


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Organization)) == 0


def needs(session: Session, area: str | None, category: str | None, limit: int, offset: int) -> tuple[int, list[Need]]:
    query = select(Need)
    if area:
        query = query.where(Need.area == area)
    if category:
        query = query.where(Need.category == category)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(query.order_by(Need.recorded_at.desc(), Need.id).limit(limit).offset(offset))
    return total, list(rows)


def organizations(session: Session, *, include_archived: bool = False, name_like: str = "") -> list[Organization]:
    query = select(Organization).order_by(Organization.name)
    if not include_archived:
        query = query.where(Organization.archived_at.is_(None))
    if name_like:
        query = query.where(Organization.name.icontains(name_like, autoescape=True))  # `%`, `_` are letters
    return list(session.scalars(query))


def communities_of(session: Session, organization_id: str, *, active_only: bool = False) -> list[Community]:
    query = select(Community).where(Community.organization_id == organization_id).order_by(Community.name)
    if active_only:
        query = query.where(Community.archived_at.is_(None))
    return list(session.scalars(query))


def community_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Community.id)))


def communities_by_id(session: Session, community_ids: list[str]) -> dict[str, Community]:
    return {c.id: c for c in session.scalars(select(Community).where(Community.id.in_(community_ids)))}


def meetings(session: Session) -> list[NetworkMeeting]:
    return list(session.scalars(select(NetworkMeeting).order_by(NetworkMeeting.held_on.desc())))
