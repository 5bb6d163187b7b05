"""Events of the notifications context."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field

from shared.events.envelope import Code, Event, Id, register

_CHANNEL = re.compile(r"\s*([A-Za-z]*)")
_WHAT = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*(?: \d{3})?)")  # an exception's name, or "HTTP 503"


def failure_code(reason: object) -> str:
    """A delivery failure as a code, `<channel>: <what failed>` (`smtp: SMTPRecipientsRefused`,
    `webhook: HTTP 503`): the full error text can hold the recipient's address, and free text
    does not travel on the bus."""
    channel, _, rest = str(reason).partition(":")
    first, what = _CHANNEL.match(channel), _WHAT.match(rest.split(":", 1)[0])
    parts = (first[1] if first else "", what[1] if what else "")
    return ": ".join(part for part in parts if part)[:64] or "unknown"


FailureCode = Annotated[str, BeforeValidator(failure_code), Field(max_length=64)]


class _Nudge(Event):
    context: ClassVar[str] = "notifications"
    aggregate: ClassVar[str] = "nudge_id"


class NudgeSent(_Nudge):
    nudge_id: Id
    rule: Code
    recipient_id: Id
    channel: Code
    referral_id: Id | None = None


class NotificationDeliveryFailed(_Nudge):
    nudge_id: Id
    rule: Code
    recipient_id: Id
    channel: Code
    reason: FailureCode
    referral_id: Id | None = None


register(NudgeSent, NotificationDeliveryFailed)
