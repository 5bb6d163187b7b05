"""`/dashboard`: the stored snapshots as a printable Danish page (always disclosure-controlled).

Reading only: before the first nightly snapshot the page says when it is due. With
`?embed=true` only the page's lead and content come back (no document, no styles), for a
client that shows the dashboard inside its own layout: the web client's `/evaluering`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.analytics.api.deps import DashboardAccess, Service
from services.analytics.dashboard import render_dashboard, render_no_snapshot
from shared.errors import NotFound

# Off (404) with DASHBOARD_ENABLED=false; else analysts, guides and admins, in every environment.
router = APIRouter(tags=["dashboard"], dependencies=DashboardAccess)
Embed = Annotated[
    bool,
    Query(description="only the lead and the content as an HTML fragment (no document, no styles), to embed"),
]


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="The latest snapshot as a printable Danish dashboard (always disclosure-controlled)",
)
def dashboard(analytics: Service, embed: Embed = False) -> HTMLResponse:
    stored, history = analytics.for_dashboard(None)
    if stored is None:
        return HTMLResponse(render_no_snapshot(analytics.next_nightly(), embedded=embed))
    return HTMLResponse(
        render_dashboard(stored.snapshot_id, stored.label, stored.computed_at, stored.content, history, embedded=embed)
    )


@router.get("/dashboard/{snapshot_id}", response_class=HTMLResponse, summary="An older snapshot's dashboard")
def dashboard_for(analytics: Service, snapshot_id: str, embed: Embed = False) -> HTMLResponse:
    stored, history = analytics.for_dashboard(snapshot_id)
    if stored is None:
        raise NotFound(f"no snapshot {snapshot_id!r}")
    return HTMLResponse(
        render_dashboard(stored.snapshot_id, stored.label, stored.computed_at, stored.content, history, embedded=embed)
    )
