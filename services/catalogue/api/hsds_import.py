"""`/v1/hsds/import`: the admin imports another directory's HSDS 3.0 services."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body

from services.catalogue.api.deps import Admin, CatalogueDep
from services.catalogue.hsds_import import ImportReport
from services.catalogue.service import importing
from shared.errors import Invalid

MAX_RECORDS = 5000
router = APIRouter(prefix="/v1/hsds", tags=["HSDS 3.0 import"])
# Any JSON: a list of services, {"services": [...]}, or one service; each record is checked alone.
Records = Annotated[Any, Body(description='a list of HSDS services, or {"services": [...]}, or one service')]


@router.post("/import", summary="Import another directory's HSDS 3.0 services (per-record results)")
async def post_import(_: Admin, catalogue: CatalogueDep, body: Records) -> ImportReport:
    records = body.get("services", [body]) if isinstance(body, dict) else body
    if not isinstance(records, list) or not records:
        raise Invalid('send a JSON list of HSDS services (or {"services": [...]})', field="body")
    if len(records) > MAX_RECORDS:
        raise Invalid(f"at most {MAX_RECORDS} services per import; split the file", field="body")
    return await asyncio.to_thread(importing.import_services, catalogue, records)
