"""The CloudEvents 1.0 structured-JSON envelope and the registry of event types.

Every event on the bus is an `Event` subclass wrapped in an `Envelope`. The envelope's `type`
is `dk.vejviser.<EventName>.v<version>`, its NATS subject `vejviser.<context>.<EventName>`;
an event that carries a citizen's attributes adds the citizen's reference as a last token
(`vejviser.referrals.CitizenRegistered.<citizen_ref>`), so that erasing the citizen can purge
it from the stream by subject (shared/bus.py `purge_citizen`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from shared.ids import new_id

SPEC_VERSION = "1.0"
TYPE_PREFIX = "dk.vejviser."
CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
MAX_ID_LENGTH = 64
# An event's JSON (the envelope with its data) is at most this large: well inside NATS's
# default max_payload (1 MiB), so that no event the contract admits can stop the outbox relay.
# Every field of every event is bounded so that even the largest fits (tests/unit/test_event_limits.py).
MAX_EVENT_BYTES = 64 * 1024
# Counts and sizes in events; an int in JSON has no size limit of its own.
MAX_INT = 1_000_000_000
# Extension attributes an envelope may carry, and the length of each (the contract knows one,
# `consentdate`; ingestion refuses the others, shared/screening.py).
MAX_EXTENSIONS = 8
MAX_EXTENSION_LENGTH = 100
_EXTENSION_TYPES = (str, int, float, bool)


class IdMark:
    """Marks the `Id` fields, so shared/screening.py knows an identifier from free text (the
    mark is not part of the JSON schema)."""

    def __repr__(self) -> str:
        return "Id"


ID_MARK = IdMark()

# Every identifier in an envelope or a payload (event ids, community_id, citizen_ref, …) ends
# up in 64-character key columns; the contract says so, so a producer hears it by name.
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH), ID_MARK]
# A machine code: a vocabulary's (area, category, sector, …) or the contract's (a rule, a period).
Code = Annotated[str, Field(max_length=64)]
# Who did something: an actor id or a role name (the APIs allow actor ids of up to 100).
Ref = Annotated[str, Field(max_length=100)]

# What a subject token may hold as it is; anything else (dots, spaces, wildcards) is digested.
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def subject_token(value: str) -> str:
    """`value` as one NATS subject token: as it is when safe, else a digest of it (the same
    value always gives the same token, which is what a purge by subject needs)."""
    if _SAFE_TOKEN.match(value):
        return value
    return "h-" + hashlib.sha256(value.encode()).hexdigest()[:40]


class EventContractError(ValueError):
    """An envelope or payload that breaks the contract. `field` names the offending field
    (dotted path, `data.` prefix for payload fields) so a producer can fix it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class UnknownEventType(EventContractError):
    pass


class Event(BaseModel):
    """Base of every event payload (`data`). Subclasses set `context` and `aggregate`.

    Unknown extra fields are ignored so that producers can add optional fields without
    breaking consumers that do not know them yet (the contract's forward compatibility).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    context: ClassVar[str]
    aggregate: ClassVar[str]  # name of the field that is the envelope's `subject`
    version: ClassVar[int] = 1
    # The field naming the citizen whose attributes this event carries (None: it carries
    # none). Its value ends the NATS subject, and erasing that citizen purges the event.
    attributes_of: ClassVar[str | None] = None

    @classmethod
    def event_name(cls) -> str:
        return cls.__name__

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}{cls.event_name()}.v{cls.version}"

    @classmethod
    def nats_subject(cls) -> str:
        """The subject of this type (consumers filter `vejviser.<context>.>`)."""
        return f"vejviser.{cls.context}.{cls.event_name()}"

    @classmethod
    def subject_for(cls, data: Mapping[str, Any]) -> str:
        """The subject of one event with payload `data`: the type's, plus the citizen's token
        when it carries a citizen's attributes."""
        citizen = data.get(cls.attributes_of) if cls.attributes_of else None
        if isinstance(citizen, str) and citizen:
            return f"{cls.nats_subject()}.{subject_token(citizen)}"
        return cls.nats_subject()

    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate))


REGISTRY: dict[str, type[Event]] = {}


def register(*models: type[Event]) -> None:
    for model in models:
        REGISTRY[model.event_type()] = model


def model_for(event_type: str) -> type[Event]:
    try:
        return REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(
            f"unknown event type {event_type!r}; known types look like '{TYPE_PREFIX}ReferralCreated.v1'",
            field="type",
        ) from None


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes; `data` stays a JSON object until `decode()`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: Id
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)
    time: datetime
    subject: str | None = Field(default=None, max_length=100)
    datacontenttype: str = Field(default="application/json", max_length=100)
    # Bounded as a whole: the payload model limits its own fields, and `parse` limits the
    # event's JSON. Ingest keeps only the model's fields (shared/ingest.py).
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is UTC:  # the common case, and a quarter of the conversion's time
            return value
        if value.tzinfo is None:
            raise ValueError("time must carry a timezone offset (RFC 3339), e.g. 2024-03-01T09:30:00Z")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _bounded_extensions(self) -> Self:
        extensions = self.model_extra
        if not extensions:
            return self
        if len(extensions) > MAX_EXTENSIONS:
            raise ValueError(f"at most {MAX_EXTENSIONS} extension attributes, not {len(extensions)}")
        for name, value in extensions.items():
            if len(name) > MAX_EXTENSION_LENGTH:
                raise ValueError(f"an extension attribute's name has at most {MAX_EXTENSION_LENGTH} characters")
            if value is not None and not isinstance(value, _EXTENSION_TYPES):
                raise ValueError(f"{name}: an extension attribute is a string, number or boolean")
            if len(value if type(value) is str else str(value)) > MAX_EXTENSION_LENGTH:
                raise ValueError(f"{name}: at most {MAX_EXTENSION_LENGTH} characters")
        return self

    @property
    def nats_subject(self) -> str:
        return model_for(self.type).subject_for(self.data)

    def decode(self) -> Event:
        model = model_for(self.type)
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise _contract_error(exc, prefix="data") from None

    @field_serializer("time")
    def _time_text(self, value: datetime) -> str:
        return _rfc3339(value)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self) -> bytes:
        # pydantic's own encoder: a quarter of the json module's time (each staged event pays it)
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        time: datetime | None = None,
        id: str | None = None,
    ) -> Self:
        return cls(
            id=id or new_id(),
            source=source,
            type=event.event_type(),
            time=time or datetime.now(UTC),
            subject=event.aggregate_id(),
            data=event.model_dump(mode="json"),
        )


@lru_cache(maxsize=4096)  # equal instants in other zones share the text: it is UTC
def _rfc3339(value: datetime) -> str:
    """The time in UTC with microseconds, `2024-03-01T09:30:00.000000Z`. Remembered: an event's
    time is written when it is measured and again into the outbox, and a derived event shares
    its cause's (the formatting was 4 % of an ingestion's time)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _contract_error(exc: ValidationError, prefix: str | None = None) -> EventContractError:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first["loc"])
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    return EventContractError(_message(first), field=path or None)


def _message(error: Any) -> str:
    """Pydantic's message, with the limit and the size given where a limit was passed."""
    context, value = error.get("ctx") or {}, error.get("input")
    if error["type"] == "string_too_long" and isinstance(value, str):
        return f"at most {context['max_length']} characters, not {len(value)}"
    if error["type"] == "too_long":
        actual = context.get("actual_length")
        return f"at most {context['max_length']} items" + (f", not {actual}" if actual is not None else "")
    return str(error["msg"]).removeprefix("Value error, ")


def _too_large(size: int) -> EventContractError:
    return EventContractError(
        f"the event is {size} bytes as JSON; an event may be at most {MAX_EVENT_BYTES} bytes "
        f"({MAX_EVENT_BYTES // 1024} KiB): shorten its fields"
    )


def parse(raw: bytes | str | Mapping[str, Any]) -> tuple[Envelope, Event]:
    """Parse and validate a structured-mode CloudEvent: the envelope, then its payload, then
    its size (at most MAX_EVENT_BYTES of JSON; text larger than that is not even parsed)."""
    if isinstance(raw, bytes | str):
        size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
        if size > MAX_EVENT_BYTES:
            raise _too_large(size)
        try:
            envelope = Envelope.model_validate_json(raw)  # fast path: pydantic parses the JSON
        except ValidationError:
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise EventContractError(f"not valid JSON ({exc.msg} at position {exc.pos})") from None
        else:
            if envelope.specversion == SPEC_VERSION:
                return envelope, envelope.decode()  # measured as the text given
    envelope, event, _ = parse_object(raw)
    return envelope, event


def parse_object(raw: object) -> tuple[Envelope, Event, bytes]:
    """`parse` for an event already read from JSON (an item of a batch), with the envelope's
    JSON it measured: the outbox stores the same bytes."""
    if not isinstance(raw, Mapping):
        raise EventContractError("a CloudEvent must be a JSON object")
    if raw.get("specversion") != SPEC_VERSION:
        raise EventContractError("must be '1.0'", field="specversion")
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise _contract_error(exc) from None
    event = envelope.decode()  # a field over its limit is named before the whole is measured
    payload = envelope.to_json()
    if len(payload) > MAX_EVENT_BYTES:
        raise _too_large(len(payload))
    return envelope, event, payload
