"""The event contract: parsing, validation errors that name the field, the registry."""

from __future__ import annotations

import pytest

from shared.events import Envelope, EventContractError, UnknownEventType, parse
from shared.events.referrals import ReferralCreated, WelcomeConfirmed

VALID = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/systems/jobcenter",
    "type": "dk.vejviser.WelcomeConfirmed.v1",
    "time": "2024-05-01T10:00:00Z",
    "data": {"referral_id": "r-1", "community_id": "k-1", "confirmed_by": "a-2"},
}


def with_(**changes: object) -> dict[str, object]:
    body = dict(VALID)
    body.update(changes)
    return body


def test_round_trip_keeps_everything() -> None:
    event = ReferralCreated(referral_id="r", citizen_ref="c", community_id="k", referrer_id="a", channel="postcard")
    envelope = Envelope.wrap(event, source="/services/referrals")
    parsed_envelope, parsed = parse(envelope.to_json())
    assert parsed == event
    assert parsed_envelope.id == envelope.id
    assert parsed_envelope.subject == "r"
    assert parsed_envelope.nats_subject == "vejviser.referrals.ReferralCreated"


def test_valid_event_parses_to_its_model() -> None:
    _, event = parse(VALID)
    assert isinstance(event, WelcomeConfirmed)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (with_(type="dk.vejviser.Nope.v1"), "type", "unknown event type"),
        (with_(specversion="0.3"), "specversion", "1.0"),
        (with_(time="yesterday"), "time", "datetime"),
        (with_(time="2024-05-01T10:00:00"), "time", "timezone"),
        (with_(id=""), "id", "at least 1"),
        (with_(id="x" * 65), "id", "at most 64"),
        (with_(data={"referral_id": "r-1", "community_id": "k-1"}), "data.confirmed_by", "required"),
        (
            with_(type="dk.vejviser.ReferralRejected.v1", data={"referral_id": "r", "reason": "bored"}),
            "data.reason",
            "full",
        ),
    ],
)
def test_invalid_input_names_the_field(body: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(EventContractError) as caught:
        parse(body)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_unknown_type_is_its_own_error() -> None:
    with pytest.raises(UnknownEventType):
        parse(with_(type="dk.vejviser.ReferralCreated.v9"))


def test_not_json_is_a_clear_error() -> None:
    with pytest.raises(EventContractError, match="not valid JSON"):
        parse(b"{nope")


def test_optional_fields_added_by_newer_producers_are_tolerated() -> None:
    _, event = parse(with_(data={**VALID["data"], "a_field_from_the_future": 1}))  # type: ignore[dict-item]
    assert isinstance(event, WelcomeConfirmed)
