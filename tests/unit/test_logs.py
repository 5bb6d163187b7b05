"""Logs are JSON lines and carry ids and types, never an event's payload."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import MetaData

from shared.db import Database
from shared.events import Envelope
from shared.events.catalogue import CommunityRegistered, WelcomeContact
from shared.inbox import Inbox, process_batch
from shared.logs import JsonFormatter


def test_json_formatter_writes_one_object_per_record() -> None:
    record = logging.makeLogRecord({"msg": "relay sent %s", "args": (3,), "levelname": "INFO", "name": "x"})
    entry = json.loads(JsonFormatter("catalogue").format(record))
    assert entry["message"] == "relay sent 3"
    assert entry["service"] == "catalogue"
    assert entry["level"] == "info"


def test_a_failing_consumer_logs_ids_not_payload(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    metadata = MetaData()
    inbox = Inbox(metadata)
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.create_schema(metadata)
    event = CommunityRegistered(
        community_id="k-1",
        organization_id="o-1",
        name="Strikkeklubben Maskerne",
        categories=["creative"],
        area="Benløse",
        kind="permanent",
        accepts_special_needs=True,
        contact=WelcomeContact(name="Birthe Hansen", email="birthe@forening.example.dk", phone="+45 11 22 33 44"),
    )
    envelope = Envelope.wrap(event, source="/test")

    def fail(*_: object) -> None:
        raise RuntimeError("database unavailable")

    with caplog.at_level(logging.DEBUG):
        outcomes = process_batch(db, inbox, "c", [envelope.to_json()], {CommunityRegistered: fail})
    assert outcomes[0].status == "failed"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert envelope.id in text and "CommunityRegistered" in text
    for personal in ("Birthe", "birthe@forening.example.dk", "11 22 33 44", "Maskerne"):
        assert personal not in text
