"""Every answer a service documents has a named schema, so a client (and the web client)
knows what comes back without reading the code."""

from __future__ import annotations

from typing import Any

import pytest

from shared.settings import SERVICES


def unnamed_responses(document: dict[str, Any]) -> list[str]:
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    if "json" not in media:
                        continue
                    schema = content.get("schema", {})
                    named = schema.get("items", schema) if schema.get("type") == "array" else schema
                    if "$ref" not in named:
                        missing.append(f"{method.upper()} {path} {status} {media}: {schema or 'no schema'}")
    return missing


@pytest.mark.parametrize("name", SERVICES)
def test_every_json_response_has_a_named_schema(name: str) -> None:
    from vejviser.interfaces import documents

    document = documents()[f"openapi-{name}.json"]
    assert unnamed_responses(document) == []
