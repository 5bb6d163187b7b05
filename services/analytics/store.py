"""Tables of the analytics service (its own database; no other service reads it)."""

from __future__ import annotations

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class SeenEvent(Base):
    """Skeleton projection: which ReferralCreated events arrived (replaced by the real model)."""

    __tablename__ = "seen_event"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
