"""How long the bus keeps what: the one table of retention for every JetStream stream and for
the event types that carry a citizen's attributes.

- Each stream has a `max_age` (None: kept until deleted), set on the stream by
  `shared/bus.py`'s stream configs.
- A sensitive event type has a time to live of its own, sent with every message of it as the
  `Nats-TTL` header (the streams allow per-message TTL; nats-server 2.11+ removes the message
  when it has passed). A dead letter keeps the header, so its DLQ copy expires alike.
- An event that carries a citizen's attributes (`Event.attributes_of`) ends its subject with
  the citizen's reference; when `CitizenErased` is relayed, its stream and the DLQ are purged
  of them (shared/outbox.py, shared/bus.py `purge_citizen`). `CitizenErased` itself stays, so
  every consumer still learns of the erasure.

`python -m vejviser docs` writes this table per event type to docs/events-retention.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.events import CONTEXTS, REGISTRY, Event
from shared.events.referrals import CitizenErased, CitizenRegistered, LonelinessMeasured

DAY = timedelta(days=1)
DLQ_STREAM = "DLQ"
ADVISORY_STREAM = "ADVISORIES"


def stream_name(context: str) -> str:
    """A context's stream (shared/bus.py re-exports it)."""
    return context.upper()


@dataclass(frozen=True)
class Keep:
    """How long something stays on the bus, and why that long."""

    age: timedelta | None  # None: until deleted
    why: str

    @property
    def seconds(self) -> int:
        return int(self.age.total_seconds()) if self.age else 0

    def describe(self) -> str:
        if self.age is None:
            return "kept"
        days = self.age / DAY
        return f"{days:g} days" if days >= 1 else f"{self.age.total_seconds():g} s"


# The lifecycle streams keep 400 days: a year of history for analytics' rebuild (`vejviser
# analytics rebuild` replays them) plus a month of slack; every service keeps its own state
# in its database, so nothing needs the stream for longer. The referrals retention job erases
# a citizen 12 months after their last referral ended, so little outlives that anyway.
LIFECYCLE = Keep(400 * DAY, "a year of lifecycle history for analytics' rebuild, plus a month")

STREAMS: dict[str, Keep] = {
    "CATALOGUE": Keep(
        None,
        "the directory itself: a consumer started afresh builds its list of communities from it. "
        "A community's contact person stays in the messages that named them; see docs/privacy.md",
    ),
    "REFERRALS": LIFECYCLE,
    "NOTIFICATIONS": LIFECYCLE,
    "ANALYTICS": LIFECYCLE,
    DLQ_STREAM: Keep(
        30 * DAY,
        "a month for an operator to fix the cause and replay a dead letter (`vejviser dlq replay`); "
        "a copy of a sensitive event keeps its own, shorter or equal, time to live",
    ),
    ADVISORY_STREAM: Keep(
        30 * DAY,
        "a work queue: each service's dead-letter keeper removes the advisories of its own consumers "
        "once their dead letters are in the DLQ; an advisory no keeper takes (an operator's ad-hoc "
        "consumer) goes after a month; advisories hold stream positions only, never a payload",
    ),
}

# Sensitive event types live 30 days on the bus. Consumers apply an event within seconds; a
# month leaves room for a consumer that is down over a holiday, for the retries of a failing
# one and for an operator to replay its dead letter. What the consumers need afterwards they
# keep in their own databases (analytics: coarse counts by area, age band and target group).
# The price: an analytics rebuild later than that counts those citizens without attributes
# and leaves out older scores.
SENSITIVE = timedelta(days=30)

EVENT_TTL: dict[type[Event], Keep] = {
    CitizenRegistered: Keep(
        SENSITIVE,
        "age band, area and target groups (target groups can be special-category data, GDPR art. 9)",
    ),
    LonelinessMeasured: Keep(SENSITIVE, "the loneliness score says something about the citizen's health"),
}

# The event whose relay purges the erased citizen's attribute-bearing messages.
ERASURE = CitizenErased
ERASURE_SUBJECT = CitizenErased.nats_subject()

# `Nats-TTL` header values by event name (the subject's third token), looked up per message.
TTL_HEADER: dict[str, str] = {model.event_name(): str(keep.seconds) for model, keep in EVENT_TTL.items()}


def message_ttl(subject: str) -> str | None:
    """The `Nats-TTL` header value (seconds) for a message on `subject`, None if it has none."""
    if not TTL_HEADER:
        return None
    parts = subject.split(".", 3)
    return TTL_HEADER.get(parts[2]) if len(parts) > 2 else None


def erasable_contexts() -> list[str]:
    """The contexts whose streams hold events that carry a citizen's attributes."""
    return [c for c in CONTEXTS if any(m.context == c and m.attributes_of for m in REGISTRY.values())]


def retention_table() -> str:
    """The retention of every stream and every event type, as Markdown (docs/events-retention.md)."""
    lines = [
        "# Event retention on the bus",
        "",
        "Generated from `shared/stream_retention.py` by `python -m vejviser docs`; a contract test",
        "keeps it current. Streams keep messages for their `max_age`; a sensitive event type also",
        "carries its own time to live (`Nats-TTL` header), which its dead-letter copy keeps. An event",
        "that carries a citizen's attributes ends its subject with the citizen's reference and is",
        "purged from its stream and the DLQ when `CitizenErased` for that citizen is relayed;",
        "`CitizenErased` itself stays.",
        "",
        "## Streams",
        "",
        "| stream | subjects | max_age | why |",
        "| --- | --- | --- | --- |",
    ]
    subjects = {stream_name(c): f"`vejviser.{c}.>`" for c in CONTEXTS}
    subjects[DLQ_STREAM] = "`vejviser.dlq.>`"
    subjects[ADVISORY_STREAM] = "`$JS.EVENT.ADVISORY.CONSUMER.…`"
    for name, keep in STREAMS.items():
        lines.append(f"| {name} | {subjects.get(name, '')} | {keep.describe()} | {keep.why} |")
    lines += [
        "",
        "## Event types",
        "",
        "Every string in an event is an id, a code, an enum or a time, except the directory fields",
        "named in the last column (shared/screening.py classifies them; the stream scan checks them).",
        "",
        "| event type | stream | kept | purged when the citizen is erased | why | directory fields |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    directory = _directory_fields()
    for model in sorted(REGISTRY.values(), key=lambda m: (CONTEXTS.index(m.context), m.event_name())):
        ttl = EVENT_TTL.get(model)
        stream = STREAMS[stream_name(model.context)]
        kept = f"{ttl.describe()} (`Nats-TTL`)" if ttl else f"{stream.describe()} (stream)"
        purged = f"yes (`{model.nats_subject()}.<citizen>`)" if model.attributes_of else "no"
        why = ttl.why if ttl else ""
        fields = ", ".join(directory.get(model.event_name(), [])) or "—"
        row = (f"`{model.event_name()}`", stream_name(model.context), kept, purged, why, fields)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _directory_fields() -> dict[str, list[str]]:
    """Per event type, its fields that are directory data (a work contact, a community's text)."""
    from pydantic import BaseModel

    from shared.screening import Kind, fields_of

    def walk(model: type[BaseModel], prefix: str) -> list[str]:
        found = []
        for name, reading in fields_of(model).items():
            if reading.nested is not None:
                found += walk(reading.nested, f"{prefix}{name}.")
            elif reading.kind in (Kind.work_contact, Kind.directory_text):
                found.append(f"`{prefix}{name}` ({'contact' if reading.kind is Kind.work_contact else 'text'})")
        return found

    return {model.event_name(): walk(model, "") for model in REGISTRY.values()}
