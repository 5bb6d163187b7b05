"""Settings of the notifications service (environment variables, on top of the shared ones)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.settings import Settings


class NotificationSettings(Settings):
    service: str = "notifications"

    # E-mail: SMTP_HOST/SMTP_PORT/MAIL_FROM are shared settings (the web sends login links too).
    # SMS is behind an interface and off unless a gateway is configured (see channels.py).
    sms_enabled: bool = False

    # Rule thresholds (the defaults).
    accompaniment_after_hours: float = 48
    welcome_followup_days: float = 7
    welcome_escalation_days: float = 14
    historic_after_days: float = 30
    dormant_after_days: float = 30
    community_wait_hours: float = 24
    digest_weekday: int = 0  # Monday
    digest_hour: int = 8  # Europe/Copenhagen
    # After a welcome: who is asked at 4 and 12 weeks whether the citizen still takes part
    # ("contact": the community, with links for the community), the reminder a week after an
    # unanswered question, and word to the guides a week after that.
    followup_recipient: Literal["referrer", "contact"] = "referrer"
    participation_reminder_days: float = 7
    participation_unanswered_days: float = 7

    # Defaults for recipients who have not set preferences.
    quiet_start: str = "21:00"
    quiet_end: str = "07:00"
    daily_cap: int = 10

    # Delivery: how often a failing channel is retried and how long to wait between tries.
    delivery_max_attempts: int = 5
    delivery_backoff_seconds: list[float] = Field(default_factory=lambda: [30.0, 120.0, 600.0, 3600.0])
    delivery_lease_seconds: float = 300.0
    webhook_timeout_seconds: float = 10.0
    # SMTP connections the delivery worker sends a batch's e-mail over, each several mails in turn.
    smtp_connections: int = Field(default=2, ge=1, le=20)

    # How often the timer loop and the delivery worker look for due work.
    tick_seconds: float = 1.0
