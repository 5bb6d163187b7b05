"""`/v1/referrals`: refer, list, read, the timeline, companions, and the lifecycle moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from services.referrals.api.deps import (
    Directory,
    ForFollowUp,
    ForWorklist,
    Offset,
    Referring,
    Service,
    Volunteering,
    acting,
)
from services.referrals.api.presenters import companion_out, referrals_out, timeline_out
from services.referrals.audit import Reader
from services.referrals.domain import Action, Status
from services.referrals.schemas import (
    AccompanyIn,
    CancelIn,
    CompanionIn,
    LonelinessIn,
    ParticipationIn,
    RankedCompanionOut,
    ReferralIn,
    ReferralOut,
    RejectIn,
    TimelineOut,
    VisitIn,
)
from services.referrals.service.views import Shown
from services.referrals.tables import Referral
from shared.errors import Invalid
from shared.events import Event
from shared.events.referrals import (
    CitizenAccompanied,
    FirstVisitProposed,
    NoShowReported,
    ParticipationConfirmed,
    ReferralAccepted,
    ReferralCancelled,
    ReferralRejected,
    WelcomeConfirmed,
)
from shared.responses import errors

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])


def one(shown: Shown, principal: Reader, service: Service) -> ReferralOut:
    return referrals_out(shown, principal, service.settings)[0]


@router.post(
    "",
    status_code=201,
    summary="Refer a citizen to a community",
    responses=errors(404, 409, 410),  # the citizen or community unknown, the community archived, the citizen erased
)
def create(body: ReferralIn, _: Referring, principal: ForFollowUp, service: Service) -> ReferralOut:
    return one(service.referrals.create(principal, body), principal, service)


@router.get("", summary="List the referrals you may see")
def visible(
    _: Directory,
    principal: ForWorklist,
    service: Service,
    status: Annotated[list[Status] | None, Query()] = None,
    referrer: Annotated[str | None, Query()] = None,
    community: Annotated[str | None, Query()] = None,
    citizen: Annotated[str | None, Query()] = None,
    overdue: Annotated[
        int | None, Query(ge=0, le=3650, description="Requested/accepted with no change for N days")
    ] = None,
    follow_up: Annotated[
        Literal["overdue"] | None,
        Query(description="overdue: welcomed, and the 4- or 12-week follow-up is unanswered 14 days past due"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[ReferralOut]:
    shown = service.referrals.visible(
        principal,
        status=status or [],
        referrer=referrer,
        community=community,
        citizen=citizen,
        overdue=overdue,
        follow_up_overdue=follow_up == "overdue",
        limit=limit,
        offset=offset,
    )
    return referrals_out(shown, principal, service.settings)


@router.get("/{referral_id}")
def get(referral_id: str, _: Directory, principal: ForFollowUp, service: Service) -> ReferralOut:
    return one(service.referrals.get(principal, referral_id), principal, service)


@router.get("/{referral_id}/timeline", summary="The referral's events in order")
def timeline(referral_id: str, _: Directory, principal: ForFollowUp, service: Service) -> list[TimelineOut]:
    return [timeline_out(entry) for entry in service.referrals.timeline(principal, referral_id)]


@router.get("/{referral_id}/companions", summary="Referrers who offer accompaniment, best match first")
def companions(
    referral_id: str, principal: Referring, service: Service, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[RankedCompanionOut]:
    return [companion_out(c) for c in service.referrals.companions(principal, referral_id, limit)]


def step(
    service: Service, principal: Reader, referral_id: str, action: Action, make: Callable[[Referral], Event]
) -> ReferralOut:
    return one(service.referrals.move(principal, referral_id, action, make), principal, service)


@router.post(
    "/{referral_id}/accept",
    dependencies=[acting(Action.accept)],
    responses=errors(409),
)
def accept(referral_id: str, principal: ForFollowUp, service: Service) -> ReferralOut:
    return step(service, principal, referral_id, Action.accept, lambda r: ReferralAccepted(referral_id=r.referral_id))


@router.post(
    "/{referral_id}/arrange_accompaniment",
    summary="Arrange a companion: the referrer or a guide names anyone, a volunteer takes it (first wins)",
    dependencies=[acting(Action.arrange_accompaniment)],
    responses=errors(409),
)
def arrange(referral_id: str, body: CompanionIn, principal: ForFollowUp, service: Service) -> ReferralOut:
    return one(service.accompaniment.arrange(principal, referral_id, body.companion_id), principal, service)


@router.post(
    "/{referral_id}/decline_accompaniment",
    status_code=204,
    summary="Say no to an accompaniment request",
    responses=errors(409),
)
def decline(referral_id: str, principal: Volunteering, service: Service) -> Response:
    service.accompaniment.decline(principal, referral_id)
    return Response(status_code=204)


@router.post(
    "/{referral_id}/accompany",
    dependencies=[acting(Action.accompany)],
    responses=errors(409),
)
def accompany(
    referral_id: str, principal: ForFollowUp, service: Service, body: AccompanyIn | None = None
) -> ReferralOut:
    def make(referral: Referral) -> CitizenAccompanied:
        companion = (body.companion_id if body else None) or referral.companion_id
        if companion is None:
            raise Invalid("companion_id: no companion is arranged; say who went along", field="companion_id")
        return CitizenAccompanied(referral_id=referral.referral_id, companion_id=companion)

    return step(service, principal, referral_id, Action.accompany, make)


@router.post(
    "/{referral_id}/welcome",
    dependencies=[acting(Action.welcome)],
    responses=errors(409),
)
def welcome(referral_id: str, principal: ForFollowUp, service: Service) -> ReferralOut:
    def make(referral: Referral) -> WelcomeConfirmed:
        return WelcomeConfirmed(
            referral_id=referral.referral_id, community_id=referral.community_id, confirmed_by=principal.actor_id
        )

    return step(service, principal, referral_id, Action.welcome, make)


@router.post(
    "/{referral_id}/confirm_participation",
    dependencies=[acting(Action.confirm_participation)],
    responses=errors(409),
)
def confirm(referral_id: str, body: ParticipationIn, principal: ForFollowUp, service: Service) -> ReferralOut:
    def make(referral: Referral) -> ParticipationConfirmed:
        return ParticipationConfirmed(
            referral_id=referral.referral_id,
            weeks_after=body.weeks_after,
            still_participating=body.still_participating,
        )

    return step(service, principal, referral_id, Action.confirm_participation, make)


@router.post(
    "/{referral_id}/reject",
    dependencies=[acting(Action.reject)],
    responses=errors(409),
)
def reject(referral_id: str, body: RejectIn, principal: ForFollowUp, service: Service) -> ReferralOut:
    return step(
        service,
        principal,
        referral_id,
        Action.reject,
        lambda r: ReferralRejected(referral_id=r.referral_id, reason=body.reason),
    )


@router.post(
    "/{referral_id}/propose_visit",
    summary="Propose the first visit (replaces an earlier proposal)",
    dependencies=[acting(Action.propose_visit)],
    responses=errors(409),
)
def propose_visit(referral_id: str, body: VisitIn, principal: ForFollowUp, service: Service) -> ReferralOut:
    def make(referral: Referral) -> FirstVisitProposed:
        # Stored and published in UTC, as every time is; shown in Copenhagen time.
        visit_at = body.visit_at.astimezone(UTC)
        return FirstVisitProposed(referral_id=referral.referral_id, visit_at=visit_at, proposed_by=principal.actor_id)

    return step(service, principal, referral_id, Action.propose_visit, make)


@router.post(
    "/{referral_id}/no_show",
    summary="The citizen did not come (ends the referral)",
    dependencies=[acting(Action.no_show)],
    responses=errors(409),
)
def no_show(referral_id: str, principal: ForFollowUp, service: Service) -> ReferralOut:
    def make(referral: Referral) -> NoShowReported:
        return NoShowReported(referral_id=referral.referral_id, reported_by=principal.actor_id)

    return step(service, principal, referral_id, Action.no_show, make)


@router.post(
    "/{referral_id}/loneliness",
    status_code=201,
    summary="Record the loneliness measure (with consent)",
    responses=errors(409),
)
def loneliness(
    referral_id: str, body: LonelinessIn, _: Referring, principal: ForFollowUp, service: Service
) -> ReferralOut:
    return one(service.referrals.measure_loneliness(principal, referral_id, body), principal, service)


@router.post(
    "/{referral_id}/cancel",
    dependencies=[acting(Action.cancel)],
    responses=errors(409),
)
def cancel(referral_id: str, principal: ForFollowUp, service: Service, body: CancelIn | None = None) -> ReferralOut:
    return step(service, principal, referral_id, Action.cancel, lambda r: ReferralCancelled(referral_id=r.referral_id))
