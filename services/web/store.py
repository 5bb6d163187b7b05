"""Tables of the web client (its own database): server-side sessions, the login attempts and
login links that lead to them, the asks for login links, the OAuth clients of municipal systems
(and the referral drafts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, MetaData, String, delete, func, select, update
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


# ---------------------------------------------------------------------- login by e-mail


class LoginLink(Base):
    """A login link mailed to a volunteer: the person it logs in and until when. Only the
    SHA-256 of the link's token is stored. A used link stays until it expires, so a second
    use is told "already used" rather than "unknown"."""

    __tablename__ = "web_login_link"
    token_hash: Mapped[str] = mapped_column(DIGEST, primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    communities: Mapped[list[str]] = mapped_column(JSON)
    next_path: Mapped[str] = mapped_column(String(2000), default="/")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginMailAsk(Base):
    """One ask for a login link, counted twice: under its address's key and under its
    client's key (keyed hashes, never the address or IP itself), each row naming the token
    hash the ask was given, so a used link's asks stop counting."""

    __tablename__ = "web_login_mail_ask"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(DIGEST, index=True)
    token_hash: Mapped[str] = mapped_column(DIGEST, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


def count_asks(db: Session, key: str, since: datetime) -> int:
    counted = select(func.count()).select_from(LoginMailAsk)
    return db.scalar(counted.where(LoginMailAsk.key == key, LoginMailAsk.created_at >= since)) or 0


def login_link(db: Session, token_hash: str) -> LoginLink | None:
    return db.get(LoginLink, token_hash)


def use_login_link(db: Session, token_hash: str, now: datetime) -> bool:
    """Mark the link used if it is unused and unexpired; one statement, so of two uses at
    the same moment only one wins (on PostgreSQL as on SQLite)."""
    used = db.execute(
        update(LoginLink)
        .where(LoginLink.token_hash == token_hash, LoginLink.used_at.is_(None), LoginLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(used, "rowcount", 0):
        return False
    db.execute(delete(LoginMailAsk).where(LoginMailAsk.token_hash == token_hash))
    return True


def delete_login_links_before(db: Session, moment: datetime) -> None:
    db.execute(delete(LoginLink).where(LoginLink.expires_at <= moment))


def delete_login_mail_asks_before(db: Session, moment: datetime) -> None:
    db.execute(delete(LoginMailAsk).where(LoginMailAsk.created_at < moment))


# ---------------------------------------------------------------------- OAuth clients


class OAuthClient(Base):
    """A municipal system that gets tokens by OAuth2 client credentials (RFC 6749 §4.4):
    its name, the services it may call, and a slow hash (scrypt) of its secret, which is
    shown once, when an administrator registers it. A revoked client stays, so its id is
    never given to another system."""

    __tablename__ = "web_oauth_client"
    client_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(300))
    audiences: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def oauth_client(db: Session, client_id: str) -> OAuthClient | None:
    return db.get(OAuthClient, client_id)


def oauth_clients(db: Session) -> list[OAuthClient]:
    return list(db.scalars(select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.client_id)))
