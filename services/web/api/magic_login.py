"""Login for volunteers by e-mail (`/login/mail`): a single-use, 15-minute link for ambassadors
and community contacts, who have no municipal identity."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
