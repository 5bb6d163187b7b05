"""Mine følgeopgaver (`/foelgeopgaver`): accompaniment requests an ambassador may take or decline,
the ones they took (meeting details, "fulgt med"), and the referrals they made themselves."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
