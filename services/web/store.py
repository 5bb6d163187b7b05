"""Tables of the web client (its own database): server-side sessions and the login attempts
that lead to them (and the referral drafts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, MetaData, String, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import UtcDateTime

ID = String(100)
DIGEST = String(64)


class Base(DeclarativeBase):
    metadata = MetaData()


# ---------------------------------------------------------------------- sessions


class WebSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's random id is stored, so a leaked
    table does not hand out sessions."""

    __tablename__ = "web_session"
    id_hash: Mapped[str] = mapped_column(DIGEST, primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, index=True)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    communities: Mapped[list[str]] = mapped_column(JSON)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """An authorization request on its way through the identity provider: what the callback
    needs to finish it (PKCE verifier, nonce, where to go afterwards), keyed by its state."""

    __tablename__ = "web_login_attempt"
    state: Mapped[str] = mapped_column(DIGEST, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


def session_by_hash(db: Session, id_hash: str) -> WebSession | None:
    return db.get(WebSession, id_hash)


def delete_session(db: Session, id_hash: str) -> None:
    db.execute(delete(WebSession).where(WebSession.id_hash == id_hash))


def delete_sessions_before(db: Session, *, created_before: datetime, seen_before: datetime) -> None:
    db.execute(
        delete(WebSession).where((WebSession.created_at < created_before) | (WebSession.last_seen_at < seen_before))
    )


def take_login_attempt(db: Session, state: str) -> LoginAttempt | None:
    """The attempt for a state, removed so a callback can be used once."""
    attempt = db.scalar(select(LoginAttempt).where(LoginAttempt.state == state))
    if attempt is not None:
        db.delete(attempt)
    return attempt


def delete_login_attempts_before(db: Session, moment: datetime) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.created_at < moment))
