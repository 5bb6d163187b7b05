"""The guides' overview: timers scheduled or cancelled, messages pending, sent or failed."""

from __future__ import annotations

from services.notifications import store
from services.notifications.service.core import Notifications


def timers(app: Notifications, status: str, limit: int) -> list[store.TimerRow]:
    return app.runtime.read(lambda session: store.timers(session, status=status, limit=limit))


def messages(app: Notifications, status: str, limit: int) -> list[store.NudgeRow]:
    return app.runtime.read(lambda session: store.nudges(session, status=status, limit=limit))
