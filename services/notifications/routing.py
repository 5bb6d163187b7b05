"""Over which channels a decided message goes, and when: preferences, quiet hours (on the
Copenhagen wall clock), the daily cap, retries, webhook signatures. Pure."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from services.notifications.domain import Notify
from shared.clock import COPENHAGEN, local


@dataclass(frozen=True)
class Preferences:
    channels: frozenset[str] = frozenset({"email"})
    opted_out: frozenset[str] = frozenset()
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(7, 0)
    daily_cap: int = 10
    # No e-mail or SMS before then (the inbox still gets everything); held mail goes out after.
    paused_until: datetime | None = None


@dataclass(frozen=True)
class PlannedDelivery:
    channel: str
    address: str
    not_before: datetime


def parse_clock_time(text: str) -> time:
    """'HH:MM' in Europe/Copenhagen."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(now: datetime, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    t = local(now).time()
    if start < end:
        return start <= t < end
    return t >= start or t < end  # the quiet hours span midnight


def quiet_hours_over(now: datetime, start: time | None, end: time | None) -> datetime:
    """When a personal message decided at `now` may go out: now, or the morning after."""
    if not in_quiet_hours(now, start, end):
        return now
    assert end is not None
    here = local(now)
    morning = datetime.combine(here.date(), end, COPENHAGEN)
    if morning <= here:
        morning = datetime.combine(here.date() + timedelta(days=1), end, COPENHAGEN)
    return morning.astimezone(UTC)


def release_at(prefs: Preferences, now: datetime) -> datetime:
    """When a personal message decided at `now` may go out: after the pause, outside quiet hours."""
    start = max(now, prefs.paused_until) if prefs.paused_until is not None else now
    return quiet_hours_over(start, prefs.quiet_start, prefs.quiet_end)


def moved_delivery(prefs: Preferences, now: datetime, *, due: datetime, tried: bool) -> datetime:
    """When a pending e-mail/SMS goes out after its recipient changed a pause or quiet hours: a
    message never tried goes when the new settings allow (sooner, if a pause was lifted); one
    waiting to be retried keeps its back-off, but not into a pause."""
    release = release_at(prefs, now)
    return max(due, release) if tried else release


def route(
    notify: Notify,
    prefs: Preferences,
    *,
    email: str | None,
    phone: str | None,
    personal_sent_today: int,
    sms_enabled: bool,
    now: datetime,
) -> list[PlannedDelivery] | None:
    """Which channels carry the message; None when the recipient opted out of the rule.

    The inbox always gets it (it is the row itself). E-mail and SMS follow the recipient's
    channels, wait for the end of a pause and of quiet hours, and stop once the daily cap is
    reached.
    """
    if str(notify.rule) in prefs.opted_out:
        return None
    if personal_sent_today >= prefs.daily_cap:
        return []
    not_before = release_at(prefs, now)
    planned = []
    if "email" in prefs.channels and email:
        planned.append(PlannedDelivery("email", email, not_before))
    if sms_enabled and "sms" in prefs.channels and phone:
        planned.append(PlannedDelivery("sms", phone, not_before))
    return planned


def retry_at(attempts: int, backoff: Sequence[float], now: datetime) -> datetime:
    """When to try a failed delivery again after `attempts` tries (the last step repeats)."""
    if not backoff:
        return now
    return now + timedelta(seconds=backoff[min(attempts, len(backoff)) - 1])


def sign_webhook(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
