"""Our envelope is CloudEvents 1.0: it validates against the official JSON schema, and an
envelope made by the CloudEvents SDK is accepted by our parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from shared.events import REGISTRY, Envelope, parse
from shared.events.catalogue import CommunityRegistered
from shared.events.referrals import ReferralCreated

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cloudevents-1.0" / "cloudevents.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    if not SCHEMA.exists():
        pytest.skip(f"reference schema not found at {SCHEMA} (the ../shared folder beside the repo)")
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_our_envelope_validates_against_the_official_schema(validator: jsonschema.protocols.Validator) -> None:
    event = CommunityRegistered(
        community_id="k-1",
        organization_id="o-1",
        name="Strikkeklubben",
        categories=["creative"],
        area="Benløse",
        kind="permanent",
        accepts_special_needs=True,
    )
    body = json.loads(Envelope.wrap(event, source="/services/catalogue").to_json())
    validator.validate(body)
    assert body["type"] == "dk.vejviser.CommunityRegistered.v1"
    assert body["subject"] == "k-1"
    assert body["time"].endswith("Z")


def test_envelope_from_the_cloudevents_sdk_is_accepted() -> None:
    from datetime import timedelta, timezone

    attributes = {
        "type": "dk.vejviser.ReferralCreated.v1",
        "source": "/systems/jobcenter",
        "id": "sdk-1",
        "specversion": "1.0",
        "subject": "r-9",
        "time": datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1))),
    }
    data = {"referral_id": "r-9", "citizen_ref": "c-9", "community_id": "k-1", "referrer_id": "a-1"}
    body = JSONFormat().write(CloudEvent(attributes, data))
    envelope, event = parse(body)
    assert isinstance(event, ReferralCreated)
    assert event.referral_id == "r-9"
    assert envelope.source == "/systems/jobcenter"
    assert envelope.time == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)  # event time kept, in UTC


def test_every_registered_type_follows_the_naming_rule() -> None:
    assert len(REGISTRY) == 28
    for event_type, model in REGISTRY.items():
        assert event_type == f"dk.vejviser.{model.__name__}.v1"
        assert model.nats_subject() == f"vejviser.{model.context}.{model.__name__}"
