"""Tables of the notifications service (its own database; no other service reads it).

Three groups: the directory (recipients, communities, referrals) learnt from events; the
work (timers, nudges, deliveries, the daily tally); and what people set (preferences, webhooks).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


# ---------------------------------------------------------------------------- directory


class RecipientRow(Base):
    __tablename__ = "recipient"
    actor_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    name: Mapped[str | None] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(100), index=True)
    offers_accompaniment: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_referral_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CommunityRow(Base):
    __tablename__ = "community"
    community_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    area: Mapped[str | None] = mapped_column(String(100), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    has_room: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class ReferralRow(Base):
    __tablename__ = "referral"
    referral_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    referrer_id: Mapped[str] = mapped_column(String(100), index=True)
    community_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    needs_accompaniment: Mapped[bool] = mapped_column(Boolean, default=False)
    special_considerations: Mapped[bool] = mapped_column(Boolean, default=False)
    accompaniment_arranged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accompanied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    welcomed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(30))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    companion_id: Mapped[str | None] = mapped_column(String(100))
    no_show_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The citizen's pseudonymous reference, only to find their referrals when they are erased.
    citizen_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# ---------------------------------------------------------------------------- work


class TimerRow(Base):
    """A durable timer: one per rule and subject; fired or cancelled timers stay as history."""

    __tablename__ = "timer"
    # Only the indexes the queries use (each one is another B-tree written per timer): a
    # batch reads timers by subject; the loop and the overview by status, in due order.
    __table_args__ = (
        UniqueConstraint("subject_id", "rule", name="uq_timer_subject_rule"),
        Index("ix_timer_status_due_at", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    referral_id: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled|fired|cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NudgeRow(Base):
    """One message to one recipient; it is also the recipient's inbox entry."""

    __tablename__ = "nudge"
    # Inboxes and the daily cap read by recipient and time; the overview by status, newest first.
    __table_args__ = (
        Index("ix_nudge_recipient_created_at", "recipient_id", "created_at"),
        Index("ix_nudge_status_created_at", "status", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(400), unique=True)
    rule: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    recipient_id: Mapped[str] = mapped_column(String(120))
    referral_id: Mapped[str | None] = mapped_column(String(100))
    # The facts the rule's templates are rendered from (JSON), when the message is sent or read.
    context: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # pending|sent|failed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeliveryRow(Base):
    """One try-until-done send of a nudge over one external channel (e-mail, SMS, webhook)."""

    __tablename__ = "delivery"
    # The worker claims pending deliveries in due order.
    __table_args__ = (Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nudge_id: Mapped[str] = mapped_column(ForeignKey("nudge.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(1000))
    webhook_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PersonalTallyRow(Base):
    """How many e-mails and SMS were decided for a recipient on a day (Copenhagen calendar):
    the daily cap reads one row per recipient instead of counting the day's deliveries, which
    grew with the day's volume (4 ms a batch at the start of a busy morning, 37 ms after 8,000
    referrals). Only today's rows are needed; older ones are deleted."""

    __tablename__ = "personal_tally"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    deliveries: Mapped[int] = mapped_column(Integer)


# ---------------------------------------------------------------------------- settings people make


class PreferenceRow(Base):
    __tablename__ = "preference"
    recipient_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    opted_out: Mapped[list[str]] = mapped_column(JSON)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    daily_cap: Mapped[int] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookRow(Base):
    __tablename__ = "webhook"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(120), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    rules: Mapped[list[str]] = mapped_column(JSON)  # empty: every rule
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
