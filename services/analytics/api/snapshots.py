"""`/v1/snapshots`: the stored nightly (and demo or manual) snapshots."""

from __future__ import annotations

from fastapi import APIRouter

from services.analytics.api.deps import Limit, Reader, Service, Suppress
from services.analytics.domain import disclose
from services.analytics.schemas import SnapshotOut, SnapshotSummary
from services.analytics.service import Stored
from shared.errors import NotFound

router = APIRouter(tags=["metrics"])


def summary(stored: Stored) -> SnapshotSummary:
    return SnapshotSummary.model_validate(
        {
            "snapshot_id": stored.snapshot_id,
            "label": stored.label,
            "computed_at": stored.computed_at.isoformat(),
            "periods": {name: metrics["period"] for name, metrics in stored.content["periods"].items()},
        }
    )


@router.get("/v1/snapshots", summary="Stored snapshots, newest first")
def list_snapshots(_: Reader, analytics: Service, limit: Limit = 100) -> list[SnapshotSummary]:
    return [summary(stored) for stored in analytics.snapshots(limit)]


@router.get("/v1/snapshots/{snapshot_id}", summary="One snapshot: the metrics for each of its periods")
def get_snapshot(_: Reader, analytics: Service, snapshot_id: str, suppress: Suppress) -> SnapshotOut:
    stored = analytics.snapshot(snapshot_id)
    if stored is None:
        raise NotFound(f"no snapshot {snapshot_id!r}; GET /v1/snapshots lists the stored ones")
    periods = stored.content["periods"]
    return SnapshotOut.model_validate(
        {
            **summary(stored).model_dump(by_alias=True),
            "metrics": {name: disclose(metrics, suppress=suppress) for name, metrics in periods.items()},
            "monthly": stored.content.get("monthly", []),
        }
    )
