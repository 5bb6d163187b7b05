"""`/dashboard`: the stored snapshots as a printable Danish page (always disclosure-controlled).

Reading only: before the first nightly snapshot the page says when it is due."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.analytics.api.deps import DashboardAccess, Service
from services.analytics.dashboard import render_dashboard, render_no_snapshot
from shared.errors import NotFound

# Off (404) with DASHBOARD_ENABLED=false; public in development; else analysts, guides, admins.
router = APIRouter(tags=["dashboard"], dependencies=[DashboardAccess])


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="The latest snapshot as a printable Danish dashboard (always disclosure-controlled)",
)
def dashboard(analytics: Service) -> HTMLResponse:
    stored, history = analytics.for_dashboard(None)
    if stored is None:
        return HTMLResponse(render_no_snapshot(analytics.next_nightly()))
    return HTMLResponse(render_dashboard(stored.snapshot_id, stored.label, stored.computed_at, stored.content, history))


@router.get("/dashboard/{snapshot_id}", response_class=HTMLResponse, summary="An older snapshot's dashboard")
def dashboard_for(analytics: Service, snapshot_id: str) -> HTMLResponse:
    stored, history = analytics.for_dashboard(snapshot_id)
    if stored is None:
        raise NotFound(f"no snapshot {snapshot_id!r}")
    return HTMLResponse(render_dashboard(stored.snapshot_id, stored.label, stored.computed_at, stored.content, history))
