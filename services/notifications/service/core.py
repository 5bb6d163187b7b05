"""The notifications service object: its settings, thresholds, default preferences, message
templates and runtime, built once by `main.build` and handed to every use case."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from services.notifications.domain import Thresholds
from services.notifications.messages import Messages
from services.notifications.routing import Preferences, parse_clock_time
from services.notifications.settings import NotificationSettings
from shared.runtime import Runtime
from shared.uow import UnitOfWork


def thresholds_from(settings: NotificationSettings) -> Thresholds:
    return Thresholds(
        accompaniment_after=timedelta(hours=settings.accompaniment_after_hours),
        welcome_followup_after=timedelta(days=settings.welcome_followup_days),
        welcome_escalation_after=timedelta(days=settings.welcome_escalation_days),
        historic_after=timedelta(days=settings.historic_after_days),
        dormant_after=timedelta(days=settings.dormant_after_days),
        community_wait=timedelta(hours=settings.community_wait_hours),
        digest_weekday=settings.digest_weekday,
        digest_hour=settings.digest_hour,
        participation_reminder_after=timedelta(days=settings.participation_reminder_days),
        participation_unanswered_after=timedelta(days=settings.participation_unanswered_days),
    )


def default_preferences(settings: NotificationSettings) -> Preferences:
    return Preferences(
        channels=frozenset({"email"}),
        quiet_start=parse_clock_time(settings.quiet_start) if settings.quiet_start else None,
        quiet_end=parse_clock_time(settings.quiet_end) if settings.quiet_end else None,
        daily_cap=settings.daily_cap,
    )


class Notifications:
    def __init__(self, runtime: Runtime, settings: NotificationSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.thresholds = thresholds_from(settings)
        self.defaults = default_preferences(settings)
        self.messages = Messages(settings.web_public_url, link_secret=settings.link_signing_key)
        self.tally_kept_from: date | None = None  # the day this process last deleted older tallies

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def unit_of_work(self, session: Session) -> UnitOfWork:
        """The unit of work of a consumer's batch: the inbox opened the transaction (so that
        the claim and the effect commit together); this stages events in it."""
        return self.runtime.joining(session)
