"""Shared pieces of the catalogue's integration tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.catalogue.settings import CatalogueSettings

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference"


def settings(database_url: str, nats_url: str, **overrides: Any) -> CatalogueSettings:
    return CatalogueSettings(
        database_url=database_url,
        nats_url=nats_url,
        relay_interval_seconds=0.05,
        retry_backoff_seconds=[0.1],
        **overrides,
    )


def reference(*parts: str) -> Any:
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the reference folder is absent ({path}); it holds the official schemas")
    return json.loads(path.read_text())


def organization_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Foreningen Maskerne",
        "kind": "association",
        "description": "Strik og hækling",
        "email": "kontakt@maskerne.example.dk",
        **overrides,
    }


def community_body(organization_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization_id": organization_id,
        "name": "Strikkeklubben Maskerne",
        "description": "Vi strikker og hækler sammen. Nybegyndere er velkomne.",
        "categories": ["creative", "social"],
        "accepts_special_needs": True,
        "contact": {"name": "Birthe Holm", "email": "birthe@maskerne.example.dk", "phone": "+45 20 11 22 33"},
        "location": {
            "area": "ringsted_midtby",
            "address": "Nørregade 2",
            "postal_code": "4100",
            "city": "Ringsted",
            "latitude": 55.4428,
            "longitude": 11.7905,
        },
        "schedules": [{"weekday": "tue", "opens_at": "14:00", "closes_at": "16:00"}],
        "capacity": {"total": 20, "available": 5},
    }
    body.update(overrides)
    return body
