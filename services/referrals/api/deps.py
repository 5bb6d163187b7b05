"""The `Annotated` dependencies of the referrals API: who may call, and the service object."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.referrals.service import ReferralsService
from shared.auth import require
from shared.principal import Principal, Role


def get_service(request: Request) -> ReferralsService:
    service: ReferralsService = request.app.state.referrals
    return service


Service = Annotated[ReferralsService, Depends(get_service)]

Staff = Annotated[Principal, Depends(require(Role.guide, Role.admin))]
Referring = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.professional, Role.ambassador))]
Directory = Annotated[
    Principal,
    Depends(require(Role.guide, Role.admin, Role.professional, Role.ambassador, Role.community_contact)),
]
Recruiting = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.ambassador))]
# Contact data is read by those who arrange the first meeting, never by ambassadors.
ContactReader = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.professional))]
