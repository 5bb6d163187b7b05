"""The dependencies every route of the notifications API declares, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.notifications.service import Notifications
from shared.auth import require
from shared.principal import Principal, Role


def _service(request: Request) -> Notifications:
    service: Notifications = request.app.state.notifications
    return service


Service = Annotated[Notifications, Depends(_service)]
SystemOrAdmin = Annotated[Principal, Depends(require(Role.municipal_system, Role.admin))]
GuideOrAdmin = Annotated[Principal, Depends(require(Role.guide, Role.admin))]
# A community's contact pauses its mail (the service checks it is theirs), or a guide or admin.
Pausing = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.community_contact))]
InboxLimit = Annotated[int, Query(ge=1, le=500)]
OverviewLimit = Annotated[int, Query(ge=1, le=1000)]
