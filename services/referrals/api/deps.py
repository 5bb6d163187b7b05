"""The `Annotated` dependencies of the referrals API: who may call, why they read citizen-linked
data, and the service object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from services.referrals.audit import Reader
from services.referrals.domain import ACTORS_FOR, Action
from services.referrals.service import ReferralsService
from services.referrals.service.welcome import CONFIRMED_BY
from services.referrals.visibility import REFERRER_ROLES
from shared.auth import CurrentPrincipal, require
from shared.principal import Principal, Role
from shared.purposes import PURPOSES, PurposeCode


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
# The audit log is the data protection officer's (and the administrator's) to search.
Supervising = Annotated[Principal, Depends(require(Role.dpo, Role.admin))]
# A citizen's access request is answered by the DPO, or by a guide or an administrator.
AnsweringAccess = Annotated[Principal, Depends(require(Role.dpo, Role.admin, Role.guide))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
# Only referrers are asked to go along, so only they can say no.
Volunteering = Annotated[Principal, Depends(require(*sorted(REFERRER_ROLES)))]


def acting(action: Action) -> Any:
    """The roles that make this move (domain.ACTORS_FOR), refused at the door so the OpenAPI
    document and the access matrix say who may; the service still checks the referral is theirs."""
    return Depends(require(*sorted(ACTORS_FOR[action])))


# A code, not free text: the log must not become a second place where names and diagnoses land.
Client = Annotated[
    str | None,
    Header(
        alias="X-Vejviser-Client",
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Which client reads (e.g. `web`); recorded in the audit log",
    ),
]
Refined = Annotated[
    PurposeCode | None,
    Query(
        alias="purpose",
        description="Why you read it, when it is not the route's declared purpose: "
        + ", ".join(f"{code} ({p.label_da})" for code, p in PURPOSES.items()),
    ),
]


def reading(purpose: PurposeCode) -> Callable[[Principal, PurposeCode | None, str | None], Reader]:
    """The caller as a `Reader`: for the route's declared `purpose` unless `?purpose=` refines it."""

    def reader(principal: CurrentPrincipal, refined: Refined = None, client: Client = None) -> Reader:
        return Reader.of(principal, refined or purpose, client)

    return reader


# The purpose each route declares for what it shows (shared/purposes.py).
ForFollowUp = Annotated[Reader, Depends(reading("referral_followup"))]
ForWorklist = Annotated[Reader, Depends(reading("worklist"))]
ForAccompaniment = Annotated[Reader, Depends(reading("accompaniment"))]
ForContact = Annotated[Reader, Depends(reading("contact_citizen"))]
ForAccessRequest = Annotated[Reader, Depends(reading("access_request"))]
ForSupervision = Annotated[Reader, Depends(reading("supervision"))]
ForErasure = Annotated[Reader, Depends(reading("erasure"))]

# Whoever holds a one-click welcome link: the community's contact, without an account.
LINK_HOLDER = Principal(actor_id=CONFIRMED_BY, role=Role.community_contact)


def link_reader(refined: Refined = None, client: Client = None) -> Reader:
    return Reader.of(LINK_HOLDER, refined or "reception", client)


ByWelcomeLink = Annotated[Reader, Depends(link_reader)]

# Paging: a database's OFFSET is a 64-bit integer, so an unbounded one (10**30) overflowed into a
# 500; no list here is anywhere near ten million rows long.
MAX_OFFSET = 10_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"skip this many (at most {MAX_OFFSET:,})")]
