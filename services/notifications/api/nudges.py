"""The guides' overview of what the rules have scheduled, sent, held back and given up on."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from services.notifications.api.deps import GuideOrAdmin, OverviewLimit, Service
from services.notifications.schemas import NudgeItem
from services.notifications.service import overview

router = APIRouter(prefix="/v1/nudges", tags=["nudges"])
NudgeStatus = Literal["scheduled", "sent", "cancelled", "failed", "pending"]


@router.get("", summary="Scheduled and cancelled timers, sent, pending and failed messages (guides and admins)")
def list_nudges(_: GuideOrAdmin, service: Service, status: NudgeStatus, limit: OverviewLimit = 200) -> list[NudgeItem]:
    if status in ("scheduled", "cancelled"):
        return [NudgeItem.of_timer(row) for row in overview.timers(service, status, limit)]
    return [NudgeItem.of_message(row) for row in overview.messages(service, status, limit)]
