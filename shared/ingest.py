"""`POST /v1/events`: CloudEvents ingestion for municipal systems, shared by the services
that own a context (catalogue, referrals).

Accepts structured mode (`application/cloudevents+json`), batched mode
(`application/cloudevents-batch+json`) and binary mode (`ce-*` headers, the body is `data`).
Every event gets its own result, `accepted | duplicate | rejected` with a reason; accepted
events are stored (state change + outbox, in order) before the answer is sent. Idempotent by
event id: the ids live in the inbox table under the consumer name `ingest`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shared.auth import Principal, Role, require
from shared.errors import DomainError, Invalid
from shared.events import BATCH_CONTENT_TYPE, Envelope, Event, EventContractError, parse
from shared.privacy import CPR_MESSAGE, find_cpr
from shared.runtime import Runtime

INGEST_CONSUMER = "ingest"
MAX_BATCH = 5000

Apply = Callable[[Session, Envelope, Event], None]


class IngestResult(BaseModel):
    index: int
    id: str | None = None
    type: str | None = None
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class IngestResponse(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[IngestResult]


@dataclass
class Parsed:
    envelope: Envelope | None
    event: Event | None
    error: str | None
    raw_id: str | None = None
    raw_type: str | None = None


def _parse_one(raw: Any) -> Parsed:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    raw_type = raw.get("type") if isinstance(raw, dict) else None
    try:
        envelope, event = parse(raw)
    except EventContractError as exc:
        return Parsed(None, None, str(exc), raw_id, raw_type)
    return Parsed(envelope, event, None, envelope.id, envelope.type)


def _binary(request: Request, body: bytes) -> dict[str, Any]:
    attrs: dict[str, Any] = {k[3:]: v for k, v in request.headers.items() if k.lower().startswith("ce-")}
    try:
        attrs["data"] = json.loads(body) if body else None
    except json.JSONDecodeError as exc:
        raise Invalid(f"binary-mode body must be the JSON data of the event ({exc.msg})") from None
    return attrs


async def read_events(request: Request) -> list[Parsed]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if "ce-specversion" in request.headers:
        return [_parse_one(_binary(request, body))]
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:
        raise Invalid(f"request body is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if content_type == BATCH_CONTENT_TYPE or isinstance(payload, list):
        if not isinstance(payload, list):
            raise Invalid("a batch (application/cloudevents-batch+json) must be a JSON array of CloudEvents")
        if len(payload) > MAX_BATCH:
            raise Invalid(f"a batch holds at most {MAX_BATCH} events; split it")
        return [_parse_one(item) for item in payload]
    return [_parse_one(payload)]


def ingest(
    runtime: Runtime,
    items: list[Parsed],
    apply: Apply,
    context: str,
) -> list[IngestResult]:
    """Apply the events in order, each in a savepoint; commit once; answer per event."""
    results: list[IngestResult] = []
    with runtime.db.transaction() as session:
        for index, item in enumerate(items):
            base = {"index": index, "id": item.raw_id, "type": item.raw_type}
            if item.envelope is None or item.event is None:
                results.append(IngestResult(**base, status="rejected", reason=item.error))
                continue
            envelope, event = item.envelope, item.event
            if event.context != context:
                reason = f"type: {envelope.type} belongs to the {event.context} context; post it to that service"
                results.append(IngestResult(**base, status="rejected", reason=reason))
                continue
            cpr_field = find_cpr(envelope.data)
            if cpr_field:
                results.append(IngestResult(**base, status="rejected", reason=f"data.{cpr_field}: {CPR_MESSAGE}"))
                continue
            try:
                with session.begin_nested():  # a rejected event leaves neither effect nor claim
                    if not runtime.inbox.claim(session, INGEST_CONSUMER, [envelope.id]):
                        results.append(IngestResult(**base, status="duplicate"))
                        continue
                    apply(session, envelope, event)
                    runtime.stage_envelopes(session, [envelope])
            except (DomainError, ValueError) as exc:
                reason = exc.message if isinstance(exc, DomainError) else str(exc)
                results.append(IngestResult(**base, status="rejected", reason=reason))
                continue
            results.append(IngestResult(**base, status="accepted"))
    runtime.committed()
    return results


def ingest_router(runtime: Runtime, apply: Apply, context: str) -> APIRouter:
    router = APIRouter(tags=["ingestion"])

    @router.post(
        "/v1/events",
        response_model=IngestResponse,
        summary="Ingest CloudEvents from municipal systems (structured, batch or binary mode)",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/cloudevents+json": {"schema": {"type": "object"}},
                    "application/cloudevents-batch+json": {"schema": {"type": "array", "items": {"type": "object"}}},
                },
                "required": True,
            }
        },
    )
    async def post_events(
        request: Request,
        _: Annotated[Principal, Depends(require(Role.municipal_system, Role.admin))],
    ) -> IngestResponse:
        items = await read_events(request)
        results = await asyncio.to_thread(ingest, runtime, items, apply, context)
        return IngestResponse(
            accepted=sum(r.status == "accepted" for r in results),
            duplicate=sum(r.status == "duplicate" for r in results),
            rejected=sum(r.status == "rejected" for r in results),
            results=results,
        )

    return router
