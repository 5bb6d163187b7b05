"""The web's own routes (login, logout, the start page); the pages are in `api.pages`."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
