"""Events of the analytics context."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.events.envelope import Code, Event, Id, register


class MetricsSnapshotPublished(Event):
    context: ClassVar[str] = "analytics"
    aggregate: ClassVar[str] = "snapshot_id"
    snapshot_id: Id
    period: Code
    computed_at: datetime


register(MetricsSnapshotPublished)
