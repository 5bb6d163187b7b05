"""One-click links from mails (`/l/{token}`): GET shows what the link will do, the button (POST)
does it as the person the link was made for (shared/links.py); no login needed."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
