"""Events of the notifications context."""

from __future__ import annotations

from typing import ClassVar

from shared.events.envelope import Event, register


class _Nudge(Event):
    context: ClassVar[str] = "notifications"
    aggregate: ClassVar[str] = "nudge_id"


class NudgeSent(_Nudge):
    nudge_id: str
    rule: str
    recipient_id: str
    channel: str
    referral_id: str | None = None


class NotificationDeliveryFailed(_Nudge):
    nudge_id: str
    rule: str
    recipient_id: str
    channel: str
    reason: str
    referral_id: str | None = None


register(NudgeSent, NotificationDeliveryFailed)
