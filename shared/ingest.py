"""`POST /v1/events`: CloudEvents ingestion for municipal systems, shared by the services
that own a context (catalogue, referrals).

Accepts structured mode (`application/cloudevents+json`), batched mode
(`application/cloudevents-batch+json`) and binary mode (`ce-*` headers, the body is `data`).
Every event gets its own result, `accepted | duplicate | rejected` with a reason; an event
must first meet the rules the APIs apply (shared/screening.py: profile codes, consent stated
as the `consentdate` extension attribute, no contact data or CPR outside directory fields).
Accepted events are stored (state change + outbox, in order) before the answer is sent. Idempotent by
event id: the ids live in the inbox table under the consumer name `ingest`. The service's
handler is a consumer's: a batched one (`shared.inbox.batched`) gets a whole request at once.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from shared import heap
from shared.auth import Principal, Role, require
from shared.errors import DomainError, Invalid
from shared.events import BATCH_CONTENT_TYPE, Envelope, Event, EventContractError, parse_object
from shared.inbox import AnyHandler, apply_handler
from shared.runtime import Runtime
from shared.screening import screen
from shared.uow import UnitOfWork

INGEST_CONSUMER = "ingest"
MAX_BATCH = 5000


IngestStatus = Literal["accepted", "duplicate", "rejected"]


class IngestResult(BaseModel):
    index: int
    id: str | None = None
    type: str | None = None
    status: IngestStatus
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
    payload: bytes = b""  # the envelope as JSON, as the outbox stores it


def _parse_one(raw: Any) -> Parsed:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    raw_type = raw.get("type") if isinstance(raw, dict) else None
    try:
        envelope, event, payload = parse_object(raw)
    except EventContractError as exc:
        return Parsed(None, None, str(exc), raw_id, raw_type)
    # The bus carries the contract's fields only: a field the model does not know is dropped
    # here, so no free text an outside system adds travels on, screened or not.
    data = event.model_dump(mode="json")
    if data != envelope.data:
        envelope = envelope.model_copy(update={"data": data})
        payload = envelope.to_json()
    return Parsed(envelope, event, None, envelope.id, envelope.type, payload)


def _json(body: bytes) -> Any:
    """The body's JSON. The request limits (shared/limits.py) refuse a body that is no UTF-8 or
    nests too deep before it gets here; this says so too when they were left out."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise Invalid("request body is not valid UTF-8; send JSON encoded as UTF-8") from None
    except RecursionError:
        raise Invalid("request body nests arrays and objects too deeply") from None


def _binary(request: Request, body: bytes) -> dict[str, Any]:
    attrs: dict[str, Any] = {k[3:]: v for k, v in request.headers.items() if k.lower().startswith("ce-")}
    try:
        attrs["data"] = _json(body) if body else None
    except json.JSONDecodeError as exc:
        raise Invalid(f"binary-mode body must be the JSON data of the event ({exc.msg})") from None
    return attrs


async def read_events(request: Request) -> list[Any]:
    """The CloudEvents posted, as JSON objects: parsing them is the worker thread's job
    (`ingest`), not the event loop's (5,000 events took it about 90 ms)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if "ce-specversion" in request.headers:
        return [_binary(request, body)]
    try:
        payload = _json(body)
    except json.JSONDecodeError as exc:
        raise Invalid(f"request body is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if content_type == BATCH_CONTENT_TYPE or isinstance(payload, list):
        if not isinstance(payload, list):
            raise Invalid("a batch (application/cloudevents-batch+json) must be a JSON array of CloudEvents")
        if len(payload) > MAX_BATCH:
            raise Invalid(f"a batch holds at most {MAX_BATCH} events; split it")
        return payload
    return [payload]


def _screen(items: list[Parsed], context: str) -> tuple[list[IngestResult | None], list[tuple[int, Envelope, Event]]]:
    """Answer what can be answered without the database; the rest are candidates to apply."""
    results: list[IngestResult | None] = [None] * len(items)
    candidates: list[tuple[int, Envelope, Event]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.envelope is None or item.event is None:
            results[index] = _result(index, item, "rejected", item.error)
        elif item.event.context != context:
            reason = f"type: {item.envelope.type} belongs to the {item.event.context} context; post it to that service"
            results[index] = _result(index, item, "rejected", reason)
        elif refusal := screen(item.envelope, item.event):
            results[index] = _result(index, item, "rejected", refusal)
        elif item.envelope.id in seen:  # a second copy inside the same request
            results[index] = _result(index, item, "duplicate")
        else:
            seen.add(item.envelope.id)
            candidates.append((index, item.envelope, item.event))
    return results, candidates


def _result(index: int, item: Parsed, status: IngestStatus, reason: str | None = None) -> IngestResult:
    return IngestResult(index=index, id=item.raw_id, type=item.raw_type, status=status, reason=reason)


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, DomainError) else str(exc)


@heap.collects_after  # the request's objects live until it commits: shared/heap.py
def ingest(runtime: Runtime, posted: list[Any], apply: AnyHandler, context: str) -> list[IngestResult]:
    """Parse the posted CloudEvents, apply them in order and commit once; answer per event.

    Fast path: the whole request in one transaction, claims and outbox rows in bulk (the
    events the service derives while applying included). If any event is refused there, that
    transaction is rolled back and the events are applied one by one in a new one, each with
    its own claim in its own savepoint, so a refused event leaves neither effect nor claim
    and the others still land.
    """
    items = [_parse_one(raw) for raw in posted]
    results, candidates = _screen(items, context)
    applied = False
    try:
        with runtime.unit_of_work() as uow, runtime.outbox.gathered(uow.session):
            session = uow.session
            claimed = runtime.inbox.claim(session, INGEST_CONSUMER, [env.id for _, env, _ in candidates])
            fresh = [(i, env, ev) for i, env, ev in candidates if env.id in claimed]
            apply_handler(session, apply, [(env, ev) for _, env, ev in fresh])
            uow.stage_envelopes([env for _, env, _ in fresh], [items[i].payload for i, _, _ in fresh])
            applied = True
    except (DomainError, ValueError):
        if applied:  # raised by the commit, not by an event: not the events' answer
            raise
        with runtime.unit_of_work() as uow:
            claimed = _one_by_one(runtime, uow, candidates, apply, items, results)
    for index, envelope, _ in candidates:
        if results[index] is None:
            status: IngestStatus = "accepted" if envelope.id in claimed else "duplicate"
            results[index] = _result(index, items[index], status)
    return [r for r in results if r is not None]


def _one_by_one(
    runtime: Runtime,
    uow: UnitOfWork,
    candidates: list[tuple[int, Envelope, Event]],
    apply: AnyHandler,
    items: list[Parsed],
    results: list[IngestResult | None],
) -> set[str]:
    claimed: set[str] = set()
    for index, envelope, event in candidates:
        try:
            with uow.session.begin_nested():
                if runtime.inbox.claim(uow.session, INGEST_CONSUMER, [envelope.id]):
                    apply_handler(uow.session, apply, [(envelope, event)])
                    uow.stage_envelopes([envelope], [items[index].payload])
                    claimed.add(envelope.id)
        except (DomainError, ValueError) as exc:
            results[index] = _result(index, items[index], "rejected", _reason(exc))
    return claimed


def ingest_router(runtime: Runtime, apply: AnyHandler, context: str) -> APIRouter:
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
        posted = await read_events(request)
        results = await asyncio.to_thread(ingest, runtime, posted, apply, context)
        return IngestResponse(
            accepted=sum(r.status == "accepted" for r in results),
            duplicate=sum(r.status == "duplicate" for r in results),
            rejected=sum(r.status == "rejected" for r in results),
            results=results,
        )

    return router
