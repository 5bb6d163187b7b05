"""The catalogue's HTTP API, one module per resource; `routers()` lists them for `main.py`."""

from __future__ import annotations

from fastapi import APIRouter

from services.catalogue.api import communities, hsds, hsds_import, needs, organizations
from services.catalogue.ratelimit import TokenBucket


def routers(bucket: TokenBucket, openapi_url: str) -> list[APIRouter]:
    return [
        organizations.router,
        communities.router,
        needs.router,
        hsds_import.router,
        hsds.public_router(bucket, openapi_url),
    ]
