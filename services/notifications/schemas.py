"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, HttpUrl, field_validator

from services.notifications import store
from services.notifications.domain import Rule
from services.notifications.messages import Rendered
from services.notifications.routing import Preferences

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
ChannelName = Literal["email", "inbox", "sms"]
CHANNEL_NAMES: tuple[ChannelName, ...] = ("email", "inbox", "sms")  # in sorted order


def _default_channels() -> list[ChannelName]:
    return ["inbox", "email"]


# ---------------------------------------------------------------------------- inbox


class InboxMessage(BaseModel):
    id: str
    rule: Rule
    title: str
    text: str
    html: str
    recipient_id: str
    referral_id: str | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, row: store.NudgeRow, message: Rendered) -> InboxMessage:
        return cls(
            id=row.id,
            rule=Rule(row.rule),
            title=message.subject,
            text=message.text,
            html=message.html,
            recipient_id=row.recipient_id,
            referral_id=row.referral_id,
            created_at=row.created_at,
            read_at=row.read_at,
        )


class InboxOut(BaseModel):
    unread: int
    messages: list[InboxMessage]


class UnreadOut(BaseModel):
    unread: int = Field(description="The caller's unread messages (their own and their communities')")


# ---------------------------------------------------------------------------- preferences


class QuietHours(BaseModel):
    start: str = Field(pattern=HHMM, description="HH:MM, Europe/Copenhagen", examples=["21:00"])
    end: str = Field(pattern=HHMM, description="HH:MM, Europe/Copenhagen", examples=["07:00"])


class PreferencesBody(BaseModel):
    channels: list[ChannelName] = Field(
        default_factory=_default_channels,
        description="Where messages go besides the inbox (which always gets them)",
    )
    opted_out: list[Rule] = Field(default_factory=list, description="Rules you do not want messages from")
    quiet_hours: QuietHours | None = Field(
        default_factory=lambda: QuietHours(start="21:00", end="07:00"),
        description="Nothing but the inbox in these hours; null: no quiet hours",
    )
    daily_cap: int = Field(default=10, ge=0, le=100, description="At most this many e-mails/SMS a day")
    paused_until: AwareDatetime | None = Field(
        default=None,
        description="No e-mail or SMS before then (the inbox still gets everything); null: not paused",
    )

    @field_validator("channels")
    @classmethod
    def _inbox_always(cls, value: list[ChannelName]) -> list[ChannelName]:
        return [name for name in CHANNEL_NAMES if name == "inbox" or name in value]


class PreferencesOut(PreferencesBody):
    recipient_id: str
    sms_available: bool

    @classmethod
    def of(cls, recipient_id: str, prefs: Preferences, sms_available: bool) -> PreferencesOut:
        quiet = None
        if prefs.quiet_start is not None and prefs.quiet_end is not None:
            quiet = QuietHours(start=prefs.quiet_start.strftime("%H:%M"), end=prefs.quiet_end.strftime("%H:%M"))
        return cls(
            recipient_id=recipient_id,
            channels=[name for name in CHANNEL_NAMES if name == "inbox" or name in prefs.channels],
            opted_out=sorted(Rule(rule) for rule in prefs.opted_out),
            quiet_hours=quiet,
            daily_cap=prefs.daily_cap,
            paused_until=prefs.paused_until,
            sms_available=sms_available,
        )


# ---------------------------------------------------------------------------- a community's pause


class PauseIn(BaseModel):
    until: AwareDatetime | None = Field(
        description="No e-mail to the community's contact before then (ISO time with offset); null ends the pause",
        examples=["2026-08-01T00:00:00+02:00"],
    )


class PauseOut(BaseModel):
    community_id: str
    recipient_id: str = Field(description="The community's recipient id: community:<id>")
    paused_until: datetime | None


# ---------------------------------------------------------------------------- webhooks


class WebhookIn(BaseModel):
    url: HttpUrl
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="HMAC key; generated and returned once when left out"
    )
    rules: list[Rule] = Field(default_factory=list, description="Rules to receive; empty: all")


class WebhookOut(BaseModel):
    id: str
    url: str
    rules: list[Rule]
    active: bool
    created_at: datetime
    owner_id: str
    secret: str | None = Field(default=None, description="Only in the answer that created the webhook")
    deliveries: dict[str, int] = Field(default_factory=dict)


class DeliveryOut(BaseModel):
    id: str
    nudge_id: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: store.DeliveryRow) -> DeliveryOut:
        return cls(
            id=row.id,
            nudge_id=row.nudge_id,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )


# ---------------------------------------------------------------------------- nudges


class NudgeItem(BaseModel):
    id: str
    kind: Literal["timer", "message"]
    rule: Rule
    status: str
    referral_id: str | None
    recipient_id: str | None = None
    subject_id: str
    due_at: datetime | None = None
    created_at: datetime
    settled_at: datetime | None = None

    @classmethod
    def of_timer(cls, row: store.TimerRow) -> NudgeItem:
        return cls(
            id=f"timer-{row.id}",
            kind="timer",
            rule=Rule(row.rule),
            status=row.status,
            referral_id=row.referral_id,
            subject_id=row.subject_id,
            due_at=row.due_at,
            created_at=row.created_at,
            settled_at=row.settled_at,
        )

    @classmethod
    def of_message(cls, row: store.NudgeRow) -> NudgeItem:
        return cls(
            id=row.id,
            kind="message",
            rule=Rule(row.rule),
            status=row.status,
            referral_id=row.referral_id,
            recipient_id=row.recipient_id,
            subject_id=row.subject_id,
            created_at=row.created_at,
            settled_at=row.sent_at,
        )
