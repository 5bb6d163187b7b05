"""A community's mail on hold: its contact (or a guide) pauses e-mail to the community."""

from __future__ import annotations

from fastapi import APIRouter

from services.notifications.api.deps import Pausing, Service
from services.notifications.schemas import PauseIn, PauseOut
from services.notifications.service import pauses
from services.notifications.service.pauses import Pause

router = APIRouter(prefix="/v1/communities", tags=["communities"])


def _out(pause: Pause) -> PauseOut:
    return PauseOut(community_id=pause.community_id, recipient_id=pause.recipient_id, paused_until=pause.paused_until)


@router.get("/{community_id}/pause", summary="Until when the community's mail is paused (null: not paused)")
def get_pause(community_id: str, principal: Pausing, service: Service) -> PauseOut:
    return _out(pauses.pause_of(service, principal, community_id))


@router.put(
    "/{community_id}/pause",
    summary="Pause e-mail to the community's contact until a time (null ends the pause); the inbox still gets all",
)
def put_pause(community_id: str, body: PauseIn, principal: Pausing, service: Service) -> PauseOut:
    return _out(pauses.set_pause(service, principal, community_id, body.until))
