"""`/v1/metrics`: the metrics of metrics.md for a period, as JSON or as CSV."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter
from fastapi.responses import Response

from services.analytics.api.deps import PeriodDep, Reader, Service, Suppress
from services.analytics.domain import disclose, flatten
from services.analytics.schemas import Metrics

router = APIRouter(tags=["metrics"])


@router.get("/v1/metrics", summary="Metrics of metrics.md for a period (cohort of referrals created in it)")
def get_metrics(_: Reader, analytics: Service, period: PeriodDep, suppress: Suppress) -> Metrics:
    return Metrics.model_validate(disclose(analytics.metrics(period), suppress=suppress))


@router.get(
    "/v1/metrics.csv",
    summary="The same metrics, one `path,value` row each (always disclosure-controlled)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "`path,value` rows"}},
)
def get_metrics_csv(_: Reader, analytics: Service, period: PeriodDep) -> Response:
    metrics = disclose(analytics.metrics(period), suppress=True)
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
