"""Modtagelse (`/modtagelse`): a community contact's incoming referrals and their answers (accept,
propose a first visit, welcome, "kom ikke", decline with a reason), capacity, and pausing mails."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
