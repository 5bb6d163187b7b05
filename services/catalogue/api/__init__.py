"""The catalogue's HTTP API, one module per resource; `routers()` lists them for `main.py`."""

from __future__ import annotations

from fastapi import APIRouter

from services.catalogue.api import communities, hsds, hsds_import, needs, organizations
from services.catalogue.ratelimit import TokenBucket
from shared.responses import errors


def routers(bucket: TokenBucket, openapi_url: str) -> list[APIRouter]:
    # The public HSDS API is rate-limited per client (hsds.rate_limit): 429 on every operation.
    public = APIRouter(responses=errors(429))
    public.include_router(hsds.public_router(bucket, openapi_url))
    return [
        organizations.router,
        communities.router,
        needs.router,
        hsds_import.router,
        public,
    ]
