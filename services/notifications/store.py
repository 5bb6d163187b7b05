"""Tables and queries of the notifications service (its own database; no other service reads it).

Three groups: the directory (recipients, communities, referrals) learnt from events; the
work (timers, nudges, deliveries); and what people set (preferences, webhooks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.notifications import domain
from services.notifications.domain import Rule
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

    def fact(self) -> domain.Recipient:
        return domain.Recipient(
            actor_id=self.actor_id,
            role=self.role,
            area=self.area,
            offers_accompaniment=self.offers_accompaniment,
            email=self.email,
            phone=self.phone,
            name=self.name,
            activated_at=self.activated_at,
            last_referral_at=self.last_referral_at,
        )


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

    def fact(self) -> domain.Community:
        return domain.Community(
            community_id=self.community_id,
            name=self.name,
            area=self.area,
            contact_name=self.contact_name,
            contact_email=self.contact_email,
            contact_phone=self.contact_phone,
            has_room=self.has_room,
            archived=self.archived,
        )


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

    def fact(self) -> domain.Referral:
        return domain.Referral(
            referral_id=self.referral_id,
            referrer_id=self.referrer_id,
            community_id=self.community_id,
            created_at=self.created_at,
            needs_accompaniment=self.needs_accompaniment,
            special_considerations=self.special_considerations,
            accompaniment_arranged_at=self.accompaniment_arranged_at,
            accompanied_at=self.accompanied_at,
            welcomed_at=self.welcomed_at,
            rejected_at=self.rejected_at,
            rejection_reason=self.rejection_reason,
            cancelled_at=self.cancelled_at,
        )


# ---------------------------------------------------------------------------- work


class TimerRow(Base):
    """A durable timer: one per rule and subject; fired or cancelled timers stay as history."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("rule", "subject_id", name="uq_timer_rule_subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    referral_id: Mapped[str | None] = mapped_column(String(100), index=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)  # scheduled|fired|cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NudgeRow(Base):
    """One message to one recipient; it is also the recipient's inbox entry."""

    __tablename__ = "nudge"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(400), unique=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    subject_id: Mapped[str] = mapped_column(String(200))
    recipient_id: Mapped[str] = mapped_column(String(120), index=True)
    referral_id: Mapped[str | None] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending|sent|failed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeliveryRow(Base):
    """One try-until-done send of a nudge over one external channel (e-mail, SMS, webhook)."""

    __tablename__ = "delivery"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nudge_id: Mapped[str] = mapped_column(ForeignKey("nudge.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(1000))
    webhook_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# ---------------------------------------------------------------------------- settings people make


class PreferenceRow(Base):
    __tablename__ = "preference"
    recipient_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    opted_out: Mapped[list[str]] = mapped_column(JSON)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    daily_cap: Mapped[int] = mapped_column(Integer)
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


# ---------------------------------------------------------------------------- queries


def directory(session: Session) -> list[domain.Recipient]:
    return [r.fact() for r in session.scalars(select(RecipientRow).order_by(RecipientRow.actor_id))]


def guides(session: Session) -> list[domain.Recipient]:
    rows = session.scalars(select(RecipientRow).where(RecipientRow.role == "guide").order_by(RecipientRow.actor_id))
    return [r.fact() for r in rows]


def community(session: Session, community_id: str) -> domain.Community | None:
    row = session.get(CommunityRow, community_id)
    return row.fact() if row else None


def communities_in_area(session: Session, area: str | None) -> list[domain.Community]:
    if area is None:
        return []
    return [c.fact() for c in session.scalars(select(CommunityRow).where(CommunityRow.area == area))]


def referrals_of(session: Session, referrer_id: str) -> list[domain.Referral]:
    rows = session.scalars(select(ReferralRow).where(ReferralRow.referrer_id == referrer_id))
    return [r.fact() for r in rows]


def communities_by_id(session: Session, ids: Iterable[str]) -> dict[str, domain.Community]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(CommunityRow).where(CommunityRow.community_id.in_(wanted)))
    return {c.community_id: c.fact() for c in rows}


def schedule(session: Session, planned: domain.Timer, now: datetime, *, keep_later: bool = False) -> None:
    """Create the timer, or move an existing one (still scheduled) to the new due time.

    `keep_later`: only move it later (a new referral postpones a dormancy nudge, never the
    other way round). A fired or cancelled timer is not revived: its rule has done its job.
    """
    row = timer(session, planned.rule, planned.subject_id)
    if row is None:
        session.add(
            TimerRow(
                rule=str(planned.rule),
                subject_id=planned.subject_id,
                referral_id=planned.referral_id,
                due_at=planned.due_at,
                status="scheduled",
                created_at=now,
            )
        )
        session.flush()
    elif row.status == "scheduled" and (not keep_later or planned.due_at > row.due_at):
        row.due_at = planned.due_at


def timer(session: Session, rule: Rule, subject_id: str) -> TimerRow | None:
    return session.scalar(select(TimerRow).where(TimerRow.rule == str(rule), TimerRow.subject_id == subject_id))


def cancel_referral_timers(session: Session, referral_id: str, rules: Sequence[Rule], now: datetime) -> int:
    result = session.execute(
        update(TimerRow)
        .where(
            TimerRow.referral_id == referral_id,
            TimerRow.rule.in_([str(r) for r in rules]),
            TimerRow.status == "scheduled",
        )
        .values(status="cancelled", settled_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_timers(session: Session, now: datetime, limit: int = 200) -> list[TimerRow]:
    query = (
        select(TimerRow)
        .where(TimerRow.status == "scheduled", TimerRow.due_at <= now)
        .order_by(TimerRow.due_at, TimerRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def nudge_exists(session: Session, dedup_key: str) -> bool:
    return session.scalar(select(NudgeRow.id).where(NudgeRow.dedup_key == dedup_key)) is not None


def personal_deliveries_since(session: Session, recipient_id: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DeliveryRow)
            .join(NudgeRow, NudgeRow.id == DeliveryRow.nudge_id)
            .where(
                NudgeRow.recipient_id == recipient_id,
                DeliveryRow.channel.in_(domain.PERSONAL_CHANNELS),
                DeliveryRow.created_at >= since,
            )
        )
        or 0
    )


def preferences(session: Session, recipient_id: str, default: domain.Preferences) -> domain.Preferences:
    row = session.get(PreferenceRow, recipient_id)
    if row is None:
        return default
    return domain.Preferences(
        channels=frozenset(row.channels),
        opted_out=frozenset(row.opted_out),
        quiet_start=_time(row.quiet_start),
        quiet_end=_time(row.quiet_end),
        daily_cap=row.daily_cap,
    )


def _time(text: str | None) -> time | None:
    return domain.parse_clock_time(text) if text else None


def webhooks_for(session: Session, rule: Rule) -> list[WebhookRow]:
    rows = session.scalars(select(WebhookRow).where(WebhookRow.active.is_(True)))
    return [w for w in rows if not w.rules or str(rule) in w.rules]


def claim_due_deliveries(session: Session, now: datetime, lease_until: datetime, limit: int = 50) -> list[DeliveryRow]:
    """Take due deliveries for this worker: the lease keeps others (and a restart) off them
    until it ends, so a worker that dies mid-send is retried once the lease is over."""
    query = (
        select(DeliveryRow)
        .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
        .order_by(DeliveryRow.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = lease_until
    return rows


def nudges(
    session: Session, *, status: str | None = None, recipients: Sequence[str] | None = None, limit: int = 200
) -> list[NudgeRow]:
    query = select(NudgeRow).order_by(NudgeRow.created_at.desc(), NudgeRow.id).limit(limit)
    if status is not None:
        query = query.where(NudgeRow.status == status)
    if recipients is not None:
        query = query.where(NudgeRow.recipient_id.in_(list(recipients)))
    return list(session.scalars(query))


def timers(session: Session, *, status: str, limit: int = 200) -> list[TimerRow]:
    return list(
        session.scalars(
            select(TimerRow).where(TimerRow.status == status).order_by(TimerRow.due_at, TimerRow.id).limit(limit)
        )
    )


def deliveries_of_webhook(session: Session, webhook_id: str, status: str | None = None) -> list[DeliveryRow]:
    query = select(DeliveryRow).where(DeliveryRow.webhook_id == webhook_id).order_by(DeliveryRow.created_at)
    if status:
        query = query.where(DeliveryRow.status == status)
    return list(session.scalars(query))


def unsettled_deliveries(session: Session, nudge_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DeliveryRow)
            .where(DeliveryRow.nudge_id == nudge_id, or_(DeliveryRow.status == "pending"))
        )
        or 0
    )


def is_empty(session: Session) -> bool:
    return (
        session.scalar(select(func.count()).select_from(NudgeRow)) == 0
        and session.scalar(select(func.count()).select_from(PreferenceRow)) == 0
    )


def row_dict(row: Any, fields: Sequence[str]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}
