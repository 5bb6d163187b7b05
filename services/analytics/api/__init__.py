"""HTTP API of analytics: metrics (JSON and CSV), snapshots and the dashboard."""

from __future__ import annotations

from fastapi import APIRouter

from services.analytics.api import dashboard, metrics, snapshots

ROUTERS: tuple[APIRouter, ...] = (metrics.router, snapshots.router, dashboard.router)
