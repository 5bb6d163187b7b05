"""Parathed (`/parathed`): guides record training and see each referrer's readiness level."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
