"""`POST /v1/events`: CloudEvents ingestion (shared/ingest.py) with the ids each request
names loaded up front, one query per table (see service/batch.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request

from services.referrals.service.batch import Touched, expect
from shared.ingest import Apply, ingest_router
from shared.runtime import Runtime


async def prefetch_named_rows(request: Request) -> None:
    """Note the ids the posted events name; the ingestion's unit of work loads them at once.

    Set in the request's own context (a plain dependency, not a generator), so the worker
    thread of the ingestion inherits it and nothing outlives the request.
    """
    try:
        payload = json.loads(await request.body())
    except ValueError:
        return  # the ingestion itself answers why the body is unusable
    items = payload if isinstance(payload, list) else [payload]
    datas = [item["data"] for item in items if isinstance(item, dict) and isinstance(item.get("data"), Mapping)]
    expect(Touched.of(datas))


def events_router(runtime: Runtime, apply: Apply) -> APIRouter:
    router = APIRouter()
    router.include_router(ingest_router(runtime, apply, "referrals"), dependencies=[Depends(prefetch_named_rows)])
    return router
