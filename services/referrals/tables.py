"""Tables of the referrals service (its own database; no other service reads it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.referrals.domain import ReferralState, Status
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
    """A pseudonymous citizen. What is known about them only as ciphertext sealed with their
    own key (kept in the key store, not here: crypto.py); attributes only with consent."""

    __tablename__ = "citizen"
    citizen_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    contact_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Age band, area, target groups, languages, consent date and recorder (attributes.py),
    # sealed; present exactly when consent is recorded. Never queried in SQL.
    attributes_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The purpose a person wrote when recording consent (sealed); none for a consent a
    # municipal system stated by sending attributes (shown as "recorded by <source>").
    consent_purpose_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    registered_by: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]


class Referral(Base):
    __tablename__ = "referral"
    referral_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    citizen_ref: Mapped[str] = mapped_column(ForeignKey("citizen.citizen_ref"), index=True)
    community_id: Mapped[str] = mapped_column(String(100), index=True)
    referrer_id: Mapped[str] = mapped_column(String(100), index=True)
    needs_accompaniment: Mapped[bool] = mapped_column(Boolean, default=False)
    special_considerations: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    # The referrer's note, sealed with the citizen's key (bound to this referral).
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The referrer marked the note for the community's contact and the companion to read
    # (with the citizen's recorded consent).
    share_note: Mapped[bool] = mapped_column(Boolean, default=False)
    override_full: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    companion_id: Mapped[str | None] = mapped_column(String(100), index=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(20))
    participation: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    # The latest follow-up answered (weeks), so "overdue" is one query over indexed columns.
    last_follow_up: Mapped[int | None] = mapped_column(Integer)
    # The citizen agreed that the community and the companion see their first name and phone.
    share_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    visit_at: Mapped[datetime | None]
    arranged_at: Mapped[datetime | None]
    welcomed_at: Mapped[datetime | None] = mapped_column(index=True)
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
            visit_at=self.visit_at,
            arranged_at=self.arranged_at,
            welcomed_at=self.welcomed_at,
        )


class AccompanimentDecline(Base):
    """A volunteer said no to an accompaniment request (no event: it changes nothing for others)."""

    __tablename__ = "accompaniment_decline"
    referral_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime]


class Loneliness(Base):
    """The loneliness measure's sum at one moment; the answers themselves are not kept."""

    __tablename__ = "loneliness"
    referral_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    moment: Mapped[str] = mapped_column(String(20), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime]


class Training(Base):
    __tablename__ = "training"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(100), index=True)
    trained_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(64))


class TimelineEntry(Base):
    """One event in a referral's life, at its event time (back-dated events keep their time)."""

    __tablename__ = "timeline"
    # Written only as plain rows (service/bulk.py); the row number keeps the order of equal times.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(String(100), index=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, object]] = mapped_column(JSON)


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
