"""The one clock and the one local zone of the system.

Times are stored in UTC and shown on the Copenhagen wall clock. Services read "now" from a
`Clock` handed to them by their composition root, so tests and demos can move time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """`moment` on the Copenhagen wall clock (for display, digests, quiet hours, months)."""
    return moment.astimezone(COPENHAGEN)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class FakeClock:
    """A clock that only moves when told to (tests, demos of what happens in a week)."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)
