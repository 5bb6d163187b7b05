"""The event contract: every v1 event, the CloudEvents envelope and the type registry.

Importing this package registers every context's events.
"""

from shared.events import analytics, catalogue, notifications, referrals
from shared.events.envelope import (
    BATCH_CONTENT_TYPE,
    CONTENT_TYPE,
    MAX_EVENT_BYTES,
    REGISTRY,
    Envelope,
    Event,
    EventContractError,
    UnknownEventType,
    model_for,
    parse,
    parse_object,
)

CONTEXTS = ("catalogue", "referrals", "notifications", "analytics")

__all__ = [
    "BATCH_CONTENT_TYPE",
    "CONTENT_TYPE",
    "CONTEXTS",
    "MAX_EVENT_BYTES",
    "REGISTRY",
    "Envelope",
    "Event",
    "EventContractError",
    "UnknownEventType",
    "analytics",
    "catalogue",
    "model_for",
    "notifications",
    "parse",
    "parse_object",
    "referrals",
]
