"""The projection consumers: one durable consumer per context stream (`projection-<context>`),
each event applied through `service.project`, so live consumption and a rebuild write the
same rows."""

from __future__ import annotations

from services.analytics.projection import handled_in
from services.analytics.service import project
from shared.events import CONTEXTS
from shared.runtime import Subscription

HANDLERS: tuple[Subscription, ...] = tuple(
    Subscription(context, f"projection-{context}", dict.fromkeys(handled_in(context), project)) for context in CONTEXTS
)
