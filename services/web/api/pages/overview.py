"""Overblik (`/overblik`): the programme's dashboard for analysts, guides and admins: a period,
the cascade drawn as generations, CSV download and a printable A4 version."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
