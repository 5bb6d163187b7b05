"""The pages guides, professionals and ambassadors use (issue 11, the referring side)."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api.pages import citizen, referral, referral_wizard, search, worklist

ROUTERS: list[APIRouter] = [search.router, referral_wizard.router, worklist.router, referral.router, citizen.router]
