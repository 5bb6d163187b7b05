"""Server-side sessions: the cookie holds only a random id; the session (who, their CSRF token,
when it started and was last used) lives in the web's database, stored under the id's hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from services.web import store
from services.web.domain import WebUser
from services.web.settings import WebSettings
from shared.principal import Role
from shared.runtime import Runtime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ActiveSession:
    id_hash: str
    user: WebUser
    csrf_token: str


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _active(row: store.WebSession) -> ActiveSession:
    user = WebUser(row.actor_id, Role(row.role), row.name, tuple(row.communities))
    return ActiveSession(row.id_hash, user, row.csrf_token)


class Sessions:
    def __init__(self, runtime: Runtime, settings: WebSettings) -> None:
        self.runtime = runtime
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.absolute = timedelta(minutes=settings.session_absolute_minutes)
        # Saving every request's time would make each page a write; a tenth of the idle
        # timeout (at most a minute) is precise enough.
        self.touch_after = min(self.idle / 10, timedelta(minutes=1))
        self.ask_window = timedelta(minutes=settings.login_mail_window_minutes)

    def open(self, user: WebUser) -> tuple[str, ActiveSession]:
        """A new session for a user who just logged in: the cookie value and the session."""
        cookie = secrets.token_urlsafe(32)

        def save(uow: UnitOfWork) -> ActiveSession:
            now = uow.now()
            row = store.WebSession(
                id_hash=digest(cookie),
                actor_id=user.actor_id,
                role=str(user.role),
                name=user.name,
                communities=list(user.communities),
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
            )
            uow.session.add(row)
            return _active(row)

        return cookie, self.runtime.write(save)

    def expired(self, row: store.WebSession, now: datetime) -> bool:
        return now - row.last_seen_at >= self.idle or now - row.created_at >= self.absolute

    def resolve(self, cookie: str) -> ActiveSession | None:
        """The live session a cookie names (its use recorded), or None: unknown or expired
        (an expired one is deleted)."""
        id_hash = digest(cookie)
        now = self.runtime.clock.now()
        row = self.runtime.read(lambda db: store.session_by_hash(db, id_hash))
        if row is None:
            return None
        if self.expired(row, now):
            self.close(id_hash)
            return None
        if now - row.last_seen_at >= self.touch_after:
            self.runtime.write(lambda uow: self._touch(uow.session, id_hash, now))
        return _active(row)

    @staticmethod
    def _touch(db: Session, id_hash: str, now: datetime) -> None:
        row = store.session_by_hash(db, id_hash)
        if row is not None:
            row.last_seen_at = now

    def close(self, id_hash: str) -> None:
        self.runtime.write(lambda uow: store.delete_session(uow.session, id_hash))

    def sweep(self) -> None:
        """Delete expired sessions, login attempts nobody finished, expired login links and
        asks for links older than the rate limits' window."""

        def work(uow: UnitOfWork) -> None:
            now = uow.now()
            store.delete_sessions_before(uow.session, created_before=now - self.absolute, seen_before=now - self.idle)
            store.delete_login_attempts_before(uow.session, now - timedelta(minutes=15))
            store.delete_login_links_before(uow.session, now)
            store.delete_login_mail_asks_before(uow.session, now - self.ask_window)

        self.runtime.write(work)
