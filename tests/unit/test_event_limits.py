"""Every field of every event is bounded, and the largest event the contract admits fits in
MAX_EVENT_BYTES: an event too large for NATS must be refused at the door, never stop the relay."""

from __future__ import annotations

import json
import types
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shared.events import MAX_EVENT_BYTES, REGISTRY, Envelope, Event, EventContractError, parse
from shared.events.envelope import MAX_EXTENSION_LENGTH, MAX_EXTENSIONS
from shared.events.referrals import CitizenRegistered

# A character that JSON writes as six bytes (\u0001), the most any character takes: strings
# of it at their maximum length make the largest JSON a field can hold.
WIDEST = "\x01"
CONSENT = {"consentdate": "2025-03-01"}


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            found.update(_constraints(list(item.metadata)))
        elif isinstance(item, annotated_types.MaxLen):
            found["max_length"] = item.max_length
        elif isinstance(item, annotated_types.Ge | annotated_types.Gt):
            found["ge"] = item.ge if isinstance(item, annotated_types.Ge) else item.gt
        elif isinstance(item, annotated_types.Le | annotated_types.Lt):
            found["le"] = item.le if isinstance(item, annotated_types.Le) else item.lt
    return found


def largest(where: str, annotation: Any, metadata: list[Any], unbounded: list[str]) -> Any:
    """The value of `annotation` whose JSON is longest (recording fields without a bound)."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return largest(where, inner, [*metadata, *extra], unbounded)
    if get_origin(annotation) in (Union, types.UnionType):
        options = [largest(where, a, metadata, unbounded) for a in get_args(annotation) if a is not type(None)]
        return max(options, key=lambda value: len(json.dumps(value, default=str)))
    limits = _constraints(metadata)
    if get_origin(annotation) is list:
        if "max_length" not in limits:
            unbounded.append(f"{where}: a list with no max_length")
            return []
        item = largest(f"{where}[]", get_args(annotation)[0], [], unbounded)
        return [item] * limits["max_length"]
    if get_origin(annotation) is Literal:
        return max((str(choice) for choice in get_args(annotation)), key=len)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return largest_payload(annotation, unbounded)
    if annotation is str:
        if "max_length" not in limits:
            unbounded.append(f"{where}: a string with no max_length")
            return ""
        return WIDEST * limits["max_length"]
    if annotation is bool:
        return False
    if annotation is int:
        if "ge" not in limits or "le" not in limits:
            unbounded.append(f"{where}: an int without both ge and le")
            return 0
        return min((limits["ge"], limits["le"]), key=lambda bound: -len(str(bound)))
    if annotation is datetime:
        return "9999-12-31T23:59:59.999999+00:00"
    if annotation is date:
        return "9999-12-31"
    unbounded.append(f"{where}: {annotation!r} has no known bound")
    return None


def largest_payload(model: type[BaseModel], unbounded: list[str]) -> dict[str, Any]:
    return {
        name: largest(f"{model.__name__}.{name}", info.annotation, list(info.metadata), unbounded)
        for name, info in model.model_fields.items()
    }


def largest_envelope(model: type[Event], data: dict[str, Any]) -> dict[str, Any]:
    unbounded: list[str] = []
    fields = {
        name: largest(f"Envelope.{name}", info.annotation, list(info.metadata), unbounded)
        for name, info in Envelope.model_fields.items()
        if name != "data"  # bounded by its model and by MAX_EVENT_BYTES
    }
    assert not unbounded, unbounded
    extensions = {
        f"x{index}{'e' * (MAX_EXTENSION_LENGTH - 2)}"[:MAX_EXTENSION_LENGTH]: WIDEST * MAX_EXTENSION_LENGTH
        for index in range(MAX_EXTENSIONS)
    }
    return {**fields, **extensions, "specversion": "1.0", "type": model.event_type(), "data": data}


EVENTS = sorted(REGISTRY.items())


def test_every_registered_event_is_walked() -> None:
    assert len(EVENTS) >= 28  # every context's events; a new one is walked as it registers


@pytest.mark.parametrize(("event_type", "model"), EVENTS, ids=[t for t, _ in EVENTS])
def test_every_field_is_bounded_and_the_largest_event_fits(event_type: str, model: type[Event]) -> None:
    unbounded: list[str] = []
    data = largest_payload(model, unbounded)
    assert not unbounded, f"{event_type}: give these a limit in shared/events: {unbounded}"
    model.model_validate(data)  # the limits are admitted at their maximum

    envelope = Envelope.model_validate(largest_envelope(model, data))
    size = len(envelope.to_json())
    assert size <= MAX_EVENT_BYTES, f"{event_type}: {size} bytes at its largest, over {MAX_EVENT_BYTES}"
    parsed, _ = parse(envelope.to_dict())
    assert parsed.id == envelope.id


def _citizen(**data: Any) -> dict[str, Any]:
    return {
        **Envelope.wrap(CitizenRegistered(citizen_ref="c-1"), source="/systems/x").to_dict(),
        **CONSENT,
        "data": {"citizen_ref": "c-1", **data},
    }


def test_a_field_over_its_limit_is_refused_by_name_and_limit() -> None:
    with pytest.raises(EventContractError) as refused:
        parse(_citizen(area="x" * 100_000))
    assert refused.value.field == "data.area"
    assert str(refused.value) == "data.area: at most 64 characters, not 100000"

    with pytest.raises(EventContractError, match=r"data.target_groups: at most 20 items, not 21"):
        parse(_citizen(target_groups=["students"] * 21))


def test_an_event_over_max_event_bytes_is_refused_naming_its_size_and_the_limit() -> None:
    # Unknown payload fields travel on as posted, so only the whole event's size bounds them.
    raw = _citizen(note="y" * MAX_EVENT_BYTES)
    size = len(json.dumps(raw, separators=(",", ":")))
    with pytest.raises(EventContractError, match=rf"the event is {size} bytes as JSON; .* at most 65536 bytes"):
        parse(raw)
    with pytest.raises(EventContractError, match=r"at most 65536 bytes"):
        parse(json.dumps(raw).encode())  # as text: refused before it is parsed


def test_an_event_at_the_limit_is_accepted() -> None:
    raw = _citizen(note="")
    raw["data"]["note"] = "y" * (MAX_EVENT_BYTES - len(Envelope.model_validate(raw).to_json()))
    envelope, _ = parse(raw)
    assert len(envelope.to_json()) == MAX_EVENT_BYTES
    assert parse(envelope.to_json())[0].id == envelope.id


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ({f"x{i}": "1" for i in range(MAX_EXTENSIONS + 1)}, f"at most {MAX_EXTENSIONS} extension attributes"),
        ({"consentdate": "2" * (MAX_EXTENSION_LENGTH + 1)}, f"consentdate: at most {MAX_EXTENSION_LENGTH} characters"),
        ({"consentdate": {"nested": "object"}}, "consentdate: an extension attribute is a string, number or boolean"),
    ],
)
def test_the_envelope_s_extension_attributes_are_bounded(extensions: dict[str, Any], message: str) -> None:
    raw = {**_citizen(), **extensions}
    with pytest.raises(EventContractError, match=message):
        parse(raw)


def test_the_envelope_s_own_fields_are_bounded() -> None:
    with pytest.raises(EventContractError, match=r"^source: at most 200 characters, not 201$"):
        parse({**_citizen(), "source": "/" * 201})
