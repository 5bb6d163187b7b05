"""Events of the notifications context."""

from __future__ import annotations

from typing import ClassVar

from shared.events.envelope import Event, Id, register


class _Nudge(Event):
    context: ClassVar[str] = "notifications"
    aggregate: ClassVar[str] = "nudge_id"


class NudgeSent(_Nudge):
    nudge_id: Id
    rule: str
    recipient_id: Id
    channel: str
    referral_id: Id | None = None


class NotificationDeliveryFailed(_Nudge):
    nudge_id: Id
    rule: str
    recipient_id: Id
    channel: str
    reason: str
    referral_id: Id | None = None


register(NudgeSent, NotificationDeliveryFailed)
