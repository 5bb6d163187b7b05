"""HTTP API of analytics: metrics (JSON and CSV), snapshots and the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.analytics import service, store
from services.analytics.dashboard import render_dashboard
from services.analytics.domain import Period, disclose, flatten
from shared.auth import Principal, Role, require
from shared.errors import Forbidden, Invalid, NotFound
from shared.runtime import Runtime

Reader = Annotated[Principal, Depends(require(Role.analyst, Role.guide, Role.admin))]
UNSUPPRESSING_ROLES = (Role.guide, Role.admin)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def period_param(
    start: Annotated[date | None, Query(alias="from", description="first day, YYYY-MM-DD (inclusive)")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, YYYY-MM-DD (inclusive)")] = None,
) -> Period:
    try:
        return Period(start, end)
    except ValueError as exc:
        raise Invalid(str(exc), field="from") from None


PeriodDep = Annotated[Period, Depends(period_param)]


def wants_suppression(principal: Principal, suppress: bool) -> bool:
    if not suppress and not principal.has(*UNSUPPRESSING_ROLES):
        raise Forbidden(
            f"role '{principal.role.value}' always gets disclosure control (cells of 1-4 citizens hidden); "
            "only guide and admin may ask for suppress=false"
        )
    return suppress


router = APIRouter(tags=["metrics"])


@router.get("/v1/metrics", summary="Metrics of metrics.md for a period (cohort of referrals created in it)")
def get_metrics(principal: Reader, runtime: RuntimeDep, period: PeriodDep, suppress: bool = True) -> dict[str, Any]:
    hide = wants_suppression(principal, suppress)
    return disclose(service.metrics_for(runtime.db, period), suppress=hide)


@router.get(
    "/v1/metrics.csv",
    summary="The same metrics, one `path,value` row each (always disclosure-controlled)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_metrics_csv(_: Reader, runtime: RuntimeDep, period: PeriodDep) -> Response:
    metrics = disclose(service.metrics_for(runtime.db, period), suppress=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "value"])
    for path, value in flatten(metrics):
        writer.writerow([path, "" if value is None else value])
    name = f"vejviser-metrics-{period.start or 'start'}-{period.end or 'now'}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _summary(snapshot: store.MetricsSnapshot) -> dict[str, Any]:
    content = snapshot.content()
    return {
        "snapshot_id": snapshot.snapshot_id,
        "label": snapshot.label,
        "computed_at": snapshot.computed_at.isoformat(),
        "periods": {name: metrics["period"] for name, metrics in content["periods"].items()},
    }


@router.get("/v1/snapshots", summary="Stored snapshots, newest first")
def list_snapshots(
    _: Reader, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    with runtime.db.transaction() as session:
        return [_summary(s) for s in store.list_snapshots(session, limit)]


@router.get("/v1/snapshots/{snapshot_id}", summary="One snapshot: the metrics for each of its periods")
def get_snapshot(principal: Reader, runtime: RuntimeDep, snapshot_id: str, suppress: bool = True) -> dict[str, Any]:
    hide = wants_suppression(principal, suppress)
    with runtime.db.transaction() as session:
        snapshot = store.get_snapshot(session, snapshot_id)
        if snapshot is None:
            raise NotFound(f"no snapshot {snapshot_id!r}; GET /v1/snapshots lists the stored ones")
        summary = _summary(snapshot)
        content = snapshot.content()
    summary["metrics"] = {name: disclose(m, suppress=hide) for name, m in content["periods"].items()}
    summary["monthly"] = content.get("monthly", [])
    return summary


dashboard_router = APIRouter(tags=["dashboard"])


def _dashboard(runtime: Runtime, snapshot_id: str | None) -> HTMLResponse:
    with runtime.db.transaction() as session:
        snapshot = store.get_snapshot(session, snapshot_id) if snapshot_id else store.latest_snapshot(session)
        if snapshot is None and snapshot_id:
            raise NotFound(f"no snapshot {snapshot_id!r}")
        history = [(s.snapshot_id, s.label, s.computed_at) for s in store.list_snapshots(session, 30)]
    if snapshot is None:
        service.take_snapshot(runtime, label="on demand")
        with runtime.db.transaction() as session:
            snapshot = store.latest_snapshot(session)
            history = [(s.snapshot_id, s.label, s.computed_at) for s in store.list_snapshots(session, 30)]
    assert snapshot is not None
    html = render_dashboard(snapshot.snapshot_id, snapshot.label, snapshot.computed_at, snapshot.content(), history)
    return HTMLResponse(html)


@dashboard_router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="The latest snapshot as a printable Danish dashboard (always disclosure-controlled)",
)
def dashboard(runtime: RuntimeDep) -> HTMLResponse:
    return _dashboard(runtime, None)


@dashboard_router.get("/dashboard/{snapshot_id}", response_class=HTMLResponse, summary="An older snapshot's dashboard")
def dashboard_for(runtime: RuntimeDep, snapshot_id: str) -> HTMLResponse:
    return _dashboard(runtime, snapshot_id)
