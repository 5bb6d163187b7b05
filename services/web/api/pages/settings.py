"""Indstillinger (`/indstillinger`) and Beskeder (`/beskeder`): a person's notification
preferences (channels, digest, quiet hours, pauses) and their inbox."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
