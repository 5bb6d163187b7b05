"""HTTP API of the referrals service: referrers, citizens, referrals, outreach, communities.

Every write is one transaction: the state change and its event (through the outbox) commit
together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals import domain
from services.referrals.crypto import CitizenVault, ContactUnreadable
from services.referrals.domain import Action
from services.referrals.handlers import Applier, Consent, Gone, get_citizen, get_referral, get_referrer
from services.referrals.schemas import (
    AccompanyIn,
    AuditOut,
    BridgeIn,
    CancelIn,
    CitizenIn,
    CitizenOut,
    CommunityOut,
    CompanionIn,
    ContactOut,
    OutreachIn,
    ParticipationIn,
    RankedCompanionOut,
    ReadinessIn,
    ReferralIn,
    ReferralOut,
    ReferrerIn,
    ReferrerOut,
    RejectIn,
    TimelineOut,
)
from services.referrals.settings import ReferralsSettings
from services.referrals.store import (
    Citizen,
    Community,
    ContactAudit,
    Referral,
    Referrer,
    TimelineEntry,
    companion_candidates,
    list_referrals,
)
from shared.auth import CurrentPrincipal, Principal, Role, require
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import Envelope, Event
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenBridged,
    CitizenErased,
    CitizenRegistered,
    OutreachRecorded,
    ParticipationConfirmed,
    ReadinessRecorded,
    ReferralAccepted,
    ReferralCancelled,
    ReferralCreated,
    ReferralRejected,
    ReferrerActivated,
    WelcomeConfirmed,
    WorkContact,
)
from shared.ids import new_id
from shared.privacy import FreeText
from shared.runtime import Runtime
from shared.welcome import welcome_url

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    runtime: Runtime
    applier: Applier
    vault: CitizenVault
    settings: ReferralsSettings
    clock: Callable[[], datetime] = field(default=_now)

    def write(self, work: Callable[[Session], T]) -> T:
        with self.runtime.db.transaction() as session:
            result = work(session)
        self.runtime.committed()
        return result

    def read(self, work: Callable[[Session], T]) -> T:
        with self.runtime.db.transaction() as session:
            return work(session)

    def stage(self, session: Session, event: Event) -> Envelope:
        return self.runtime.stage(session, event, time=self.clock())[0]


Staff = Annotated[Principal, Depends(require(Role.guide, Role.admin))]
Referring = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.professional, Role.ambassador))]
Directory = Annotated[
    Principal,
    Depends(require(Role.guide, Role.admin, Role.professional, Role.ambassador, Role.community_contact)),
]
Recruiting = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.ambassador))]


def local_time(value: datetime) -> str:
    return value.astimezone(COPENHAGEN).isoformat(timespec="seconds")


# ---------------------------------------------------------------------- presenters


def referrer_out(r: Referrer) -> ReferrerOut:
    return ReferrerOut(
        actor_id=r.actor_id,
        role=r.role,
        name=r.name,
        sector=r.sector,
        organization=r.organization,
        area=r.area,
        languages=list(r.languages or []),
        offers_accompaniment=r.offers_accompaniment,
        contact={"email": r.contact_email, "phone": r.contact_phone},
        activated_by=r.activated_by,
        activated_at=r.activated_at,
        was_referred_citizen=r.citizen_ref is not None,
        readiness=r.readiness,
    )


def citizen_out(c: Citizen) -> CitizenOut:
    consent = (
        {
            "purpose": c.consent_purpose,
            "date": c.consent_date.date().isoformat() if c.consent_date else None,
            "recorded_by": c.consent_recorded_by,
        }
        if c.consent_purpose
        else None
    )
    return CitizenOut(
        citizen_ref=c.citizen_ref,
        age_band=c.age_band,
        area=c.area,
        target_groups=list(c.target_groups or []),
        languages=list(c.languages or []),
        consent=consent,
        has_contact=c.wrapped_key is not None and c.contact_ciphertext is not None,
        registered_at=c.registered_at,
        erased=c.erased_at is not None,
    )


def referral_out(ctx: Context, r: Referral, principal: Principal, community_names: dict[str, str]) -> ReferralOut:
    state = r.state()
    link = None
    # The welcome link lets anyone holding it confirm the welcome: only guides hand it out.
    if principal.role in domain.SEE_ALL and state.status in domain.OPEN:
        link = welcome_url(
            ctx.settings.referrals_public_url, ctx.settings.welcome_link_secret, r.referral_id, r.created_at
        )
    return ReferralOut(
        referral_id=r.referral_id,
        citizen_ref=r.citizen_ref,
        community_id=r.community_id,
        community_name=community_names.get(r.community_id),
        referrer_id=r.referrer_id,
        needs_accompaniment=r.needs_accompaniment,
        special_considerations=r.special_considerations,
        channel=r.channel,
        note=r.note,
        status=state.status,
        allowed_actions=[a.value for a in domain.allowed_actions_for(state)],
        version=r.version,
        companion_id=r.companion_id,
        rejection_reason=r.rejection_reason,
        participation={str(k): v for k, v in state.participation.items()},
        created_at=r.created_at,
        updated_at=r.updated_at,
        welcome_url=link,
    )


def names_of(session: Session, community_ids: Sequence[str]) -> dict[str, str]:
    if not community_ids:
        return {}
    rows = session.execute(
        select(Community.community_id, Community.name).where(Community.community_id.in_(set(community_ids)))
    )
    return dict(rows.tuples().all())


def visible_referral(session: Session, principal: Principal, referral_id: str) -> Referral:
    referral = get_referral(session, referral_id)
    domain.check_can_see(
        principal,
        referrer_id=referral.referrer_id,
        companion_id=referral.companion_id,
        community_id=referral.community_id,
    )
    return referral


def check_knows_citizen(session: Session, principal: Principal, citizen: Citizen) -> None:
    """Guides and admins know every citizen; a referrer only those they registered or referred."""
    if principal.role in domain.SEE_ALL:
        return
    if citizen.registered_by == principal.actor_id:
        return
    referred = session.scalar(
        select(Referral.referral_id)
        .where(Referral.citizen_ref == citizen.citizen_ref, Referral.referrer_id == principal.actor_id)
        .limit(1)
    )
    if referred is None:
        raise Forbidden("you have not registered or referred this citizen")


# ---------------------------------------------------------------------- referrers


def referrers_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/v1/referrers", tags=["referrers"])

    @router.post("", status_code=201, response_model=ReferrerOut, summary="Activate a referrer (a cascade edge)")
    def activate(body: ReferrerIn, principal: Recruiting) -> ReferrerOut:
        if principal.role is Role.ambassador and body.role != "ambassador":
            raise Forbidden("an ambassador can recruit ambassadors only; ask a guide to activate professionals")

        def work(session: Session) -> ReferrerOut:
            existing = session.get(Referrer, body.actor_id)
            if existing is not None:
                by = f" by {existing.activated_by}" if existing.activated_by else ""
                raise Conflict(
                    f"referrer {body.actor_id!r} was already activated{by} on "
                    f"{local_time(existing.activated_at)[:10]}; the first activation counts",
                    activated_by=existing.activated_by,
                )
            activated_by = body.activated_by
            caller_is_referrer = session.get(Referrer, principal.actor_id) is not None
            if principal.role is Role.ambassador or (activated_by is None and caller_is_referrer):
                activated_by = principal.actor_id
            if activated_by is not None:
                get_referrer(session, activated_by, field="activated_by")
            if body.citizen_ref is not None:
                get_citizen(session, body.citizen_ref)
            event = ReferrerActivated(
                actor_id=body.actor_id,
                role=body.role,
                sector=body.sector,
                organization=body.organization,
                area=body.area,
                activated_by=activated_by,
                offers_accompaniment=body.offers_accompaniment,
                contact=WorkContact(**body.contact.model_dump()) if body.contact else None,
                citizen_ref=body.citizen_ref,
                name=body.name,
                languages=body.languages,
            )
            ctx.applier.activate_referrer(session, ctx.stage(session, event), event)
            if body.readiness is not None:
                level = ReadinessRecorded(actor_id=body.actor_id, level=body.readiness.value)
                ctx.applier.record_readiness(session, ctx.stage(session, level), level)
            return referrer_out(_referrer(session, body.actor_id))

        return ctx.write(work)

    @router.get("", response_model=list[ReferrerOut], summary="List referrers (directory data)")
    def list_(
        _: Directory,
        role: Annotated[str | None, Query()] = None,
        area: Annotated[str | None, Query()] = None,
        activated_by: Annotated[str | None, Query()] = None,
        offers_accompaniment: Annotated[bool | None, Query()] = None,
    ) -> list[ReferrerOut]:
        def work(session: Session) -> list[ReferrerOut]:
            query = select(Referrer).order_by(Referrer.activated_at, Referrer.actor_id)
            if role:
                query = query.where(Referrer.role == role)
            if area:
                query = query.where(Referrer.area == area)
            if activated_by:
                query = query.where(Referrer.activated_by == activated_by)
            if offers_accompaniment is not None:
                query = query.where(Referrer.offers_accompaniment.is_(offers_accompaniment))
            return [referrer_out(r) for r in session.scalars(query)]

        return ctx.read(work)

    @router.get("/{actor_id}", response_model=ReferrerOut)
    def get(actor_id: str, _: Directory) -> ReferrerOut:
        return ctx.read(lambda session: referrer_out(_referrer(session, actor_id)))

    @router.post("/{actor_id}/readiness", response_model=ReferrerOut, summary="Record a referrer's readiness level")
    def readiness(actor_id: str, body: ReadinessIn, _: Staff) -> ReferrerOut:
        def work(session: Session) -> ReferrerOut:
            referrer = _referrer(session, actor_id)
            if domain.readiness_changed(referrer.readiness, body.level):
                event = ReadinessRecorded(actor_id=actor_id, level=body.level.value)
                ctx.applier.record_readiness(session, ctx.stage(session, event), event)
            return referrer_out(referrer)

        return ctx.write(work)

    return router


def _referrer(session: Session, actor_id: str) -> Referrer:
    referrer = session.get(Referrer, actor_id)
    if referrer is None:
        raise NotFound(f"referrer {actor_id!r} does not exist")
    return referrer


# ---------------------------------------------------------------------- citizens


def citizens_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/v1/citizens", tags=["citizens"])

    @router.post("", status_code=201, response_model=CitizenOut, summary="Register a pseudonymous citizen")
    def register(body: CitizenIn, principal: Referring) -> CitizenOut:
        now = ctx.clock()
        consent = None
        if body.consent is not None:
            given = datetime.combine(body.consent.date, time(12), tzinfo=COPENHAGEN) if body.consent.date else now
            if given > now + timedelta(days=1):
                raise Invalid("consent.date: consent cannot be given in the future", field="consent.date")
            consent = Consent(purpose=body.consent.purpose, date=given.astimezone(UTC), recorded_by=principal.actor_id)
        domain.check_consent(
            consent is not None, age_band=body.age_band, area=body.area, target_groups=body.target_groups
        )
        if body.languages and consent is None:
            raise Invalid(
                "languages: stored only with recorded consent; add consent {purpose, date}", field="languages"
            )

        def work(session: Session) -> CitizenOut:
            event = CitizenRegistered(
                # Random, not time-ordered (shared/ids.py): the reference must not tell when
                # the citizen was registered.
                citizen_ref=f"c-{uuid.uuid4()}",
                age_band=body.age_band,
                area=body.area,
                target_groups=body.target_groups,
            )
            citizen = ctx.applier.register_citizen(
                session,
                ctx.stage(session, event),
                event,
                consent=consent,
                registered_by=principal.actor_id,
                contact=body.contact.model_dump() if body.contact else None,
                languages=body.languages,
            )
            return citizen_out(citizen)

        return ctx.write(work)

    @router.get("/{citizen_ref}", response_model=CitizenOut, summary="A citizen's pseudonymous record (audited)")
    def get(citizen_ref: str, principal: Referring) -> CitizenOut:
        def work(session: Session) -> CitizenOut:
            citizen = _citizen(session, citizen_ref)
            check_knows_citizen(session, principal, citizen)
            _audit(session, ctx, principal, citizen_ref, "record", "view record")
            return citizen_out(citizen)

        return ctx.write(work)

    @router.get("/{citizen_ref}/contact", response_model=ContactOut, summary="Read contact data (audited)")
    def contact(
        citizen_ref: str,
        principal: Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.professional))],
        purpose: Annotated[FreeText, Query(min_length=3, max_length=500, description="Why you read it")],
    ) -> ContactOut:
        def work(session: Session) -> ContactOut:
            citizen = get_citizen(session, citizen_ref)
            check_knows_citizen(session, principal, citizen)
            if citizen.contact_ciphertext is None:
                raise NotFound("no contact data is recorded for this citizen")
            try:
                data = ctx.vault.open(citizen_ref, citizen.wrapped_key, citizen.contact_ciphertext)
            except ContactUnreadable as exc:
                raise Gone("the contact data can no longer be read") from exc
            _audit(session, ctx, principal, citizen_ref, "contact", purpose)
            return ContactOut(
                citizen_ref=citizen_ref, name=data.get("name"), phone=data.get("phone"), email=data.get("email")
            )

        return ctx.write(work)

    @router.get("/{citizen_ref}/audit", response_model=list[AuditOut], summary="Who read this citizen's data")
    def audit(citizen_ref: str, _: Staff) -> list[AuditOut]:
        def work(session: Session) -> list[AuditOut]:
            _citizen(session, citizen_ref)
            rows = session.scalars(
                select(ContactAudit).where(ContactAudit.citizen_ref == citizen_ref).order_by(ContactAudit.id)
            )
            return [AuditOut(actor_id=a.actor_id, role=a.role, what=a.what, purpose=a.purpose, at=a.at) for a in rows]

        return ctx.read(work)

    @router.delete("/{citizen_ref}", summary="Erase a citizen: destroy their key (crypto-shredding)")
    def erase(citizen_ref: str, _: Staff) -> dict[str, object]:
        def work(session: Session) -> dict[str, object]:
            event = CitizenErased(citizen_ref=citizen_ref)
            envelope = ctx.stage(session, event)
            ctx.applier.erase_citizen(session, envelope, event)
            return {"citizen_ref": citizen_ref, "erased_at": envelope.time.isoformat()}

        return ctx.write(work)

    @router.post("/{citizen_ref}/bridge", status_code=201, summary="Record a bridge out of a practice track")
    def bridge(citizen_ref: str, body: BridgeIn, principal: Referring) -> dict[str, str]:
        def work(session: Session) -> dict[str, str]:
            check_knows_citizen(session, principal, get_citizen(session, citizen_ref))
            event = CitizenBridged(
                citizen_ref=citizen_ref, from_community_id=body.from_community_id, to_referral_id=body.to_referral_id
            )
            envelope = ctx.stage(session, event)
            ctx.applier.bridge(session, envelope, event)
            return {"event_id": envelope.id, **event.model_dump()}

        return ctx.write(work)

    return router


def _citizen(session: Session, citizen_ref: str) -> Citizen:
    citizen = session.get(Citizen, citizen_ref)
    if citizen is None:
        raise NotFound(f"citizen {citizen_ref!r} is not registered")
    return citizen


def _audit(session: Session, ctx: Context, principal: Principal, citizen_ref: str, what: str, purpose: str) -> None:
    session.add(
        ContactAudit(
            citizen_ref=citizen_ref,
            actor_id=principal.actor_id,
            role=principal.role.value,
            what=what,
            purpose=purpose,
            at=ctx.clock(),
        )
    )


# ---------------------------------------------------------------------- referrals


def referrals_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

    def present(session: Session, referral: Referral, principal: Principal) -> ReferralOut:
        return referral_out(ctx, referral, principal, names_of(session, [referral.community_id]))

    @router.post("", status_code=201, response_model=ReferralOut, summary="Refer a citizen to a community")
    def create(body: ReferralIn, principal: Referring) -> ReferralOut:
        referrer_id = body.referrer_id or principal.actor_id
        if principal.role in domain.REFERRER_ROLES and referrer_id != principal.actor_id:
            raise Forbidden("you can refer only as yourself (leave referrer_id out)")

        def work(session: Session) -> ReferralOut:
            citizen = get_citizen(session, body.citizen_ref)
            if principal.role in domain.REFERRER_ROLES and citizen.registered_by != principal.actor_id:
                check_knows_citizen(session, principal, citizen)
            event = ReferralCreated(
                referral_id=new_id(),
                citizen_ref=body.citizen_ref,
                community_id=body.community_id,
                referrer_id=referrer_id,
                needs_accompaniment=body.needs_accompaniment,
                special_considerations=body.special_considerations,
                channel=body.channel,
            )
            referral = ctx.applier.create_referral(
                session, ctx.stage(session, event), event, override_full=body.override_full, note=body.note
            )
            return present(session, referral, principal)

        return ctx.write(work)

    @router.get("", response_model=list[ReferralOut], summary="List the referrals you may see")
    def list_(
        principal: CurrentPrincipal,
        status: Annotated[list[domain.Status] | None, Query()] = None,
        referrer: Annotated[str | None, Query()] = None,
        community: Annotated[str | None, Query()] = None,
        citizen: Annotated[str | None, Query()] = None,
        overdue: Annotated[
            int | None, Query(ge=0, le=3650, description="Requested/accepted with no change for N days")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[ReferralOut]:
        communities: list[str] | None = [community] if community else None
        visible_to = None
        if principal.role is Role.community_contact:
            allowed = list(principal.communities)
            communities = [c for c in communities if c in allowed] if communities else allowed
        elif principal.role in domain.REFERRER_ROLES:
            visible_to = principal.actor_id
        elif principal.role not in domain.SEE_ALL:
            raise Forbidden(f"role '{principal.role.value}' cannot list referrals; analysts read aggregates")

        def work(session: Session) -> list[ReferralOut]:
            rows = list_referrals(
                session,
                status=[s.value for s in status or []],
                referrer_id=referrer,
                community_ids=communities,
                citizen_ref=citizen,
                visible_to_actor=visible_to,
                overdue_days=overdue,
                now=ctx.clock(),
                limit=limit,
                offset=offset,
            )
            names = names_of(session, [r.community_id for r in rows])
            return [referral_out(ctx, r, principal, names) for r in rows]

        return ctx.read(work)

    @router.get("/{referral_id}", response_model=ReferralOut)
    def get(referral_id: str, principal: CurrentPrincipal) -> ReferralOut:
        return ctx.read(lambda session: present(session, visible_referral(session, principal, referral_id), principal))

    @router.get("/{referral_id}/timeline", response_model=list[TimelineOut], summary="The referral's events in order")
    def timeline(referral_id: str, principal: CurrentPrincipal) -> list[TimelineOut]:
        def work(session: Session) -> list[TimelineOut]:
            visible_referral(session, principal, referral_id)
            rows = session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.referral_id == referral_id)
                .order_by(TimelineEntry.time, TimelineEntry.id)
            )
            return [
                TimelineOut(
                    event_id=e.event_id,
                    type=e.event_type,
                    time=e.time,
                    time_local=local_time(e.time),
                    source=e.source,
                    status=e.status,
                    data=e.data,
                )
                for e in rows
            ]

        return ctx.read(work)

    @router.get(
        "/{referral_id}/companions",
        response_model=list[RankedCompanionOut],
        summary="Referrers who offer accompaniment, best match first",
    )
    def companions(referral_id: str, principal: Referring, limit: Annotated[int, Query(ge=1, le=100)] = 10):  # type: ignore[no-untyped-def]
        def work(session: Session) -> list[RankedCompanionOut]:
            referral = visible_referral(session, principal, referral_id)
            community = session.get(Community, referral.community_id)
            citizen = session.get(Citizen, referral.citizen_ref)
            need = domain.CompanionNeed(
                community_area=community.area if community else None,
                community_categories=frozenset(community.categories if community else []),
                citizen_area=citizen.area if citizen else None,
                citizen_languages=frozenset(citizen.languages if citizen else []),
            )
            now = ctx.clock().astimezone(COPENHAGEN)
            month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
            found = companion_candidates(session, month_start)
            by_id = {r.actor_id: r for r, _, _ in found}
            candidates = [
                domain.CompanionCandidate(
                    actor_id=r.actor_id,
                    area=r.area,
                    languages=frozenset(r.languages or []),
                    accompanied_categories=frozenset(categories),
                    accompaniments_this_month=count,
                )
                for r, categories, count in found
            ]
            ranked = domain.rank_companions(candidates, need)[:limit]
            return [
                RankedCompanionOut(
                    actor_id=c.actor_id,
                    name=by_id[c.actor_id].name,
                    area=by_id[c.actor_id].area,
                    languages=list(by_id[c.actor_id].languages or []),
                    score=c.score,
                    reasons=list(c.reasons),
                )
                for c in ranked
            ]

        return ctx.read(work)

    def move(principal: Principal, referral_id: str, action: Action, make: Callable[[Referral], Event]) -> ReferralOut:
        domain.check_can_act(principal, action)

        def work(session: Session) -> ReferralOut:
            referral = visible_referral(session, principal, referral_id)
            event = make(referral)
            moved = ctx.applier.move(session, ctx.stage(session, event), event, referral)
            return present(session, moved, principal)

        return ctx.write(work)

    @router.post("/{referral_id}/accept", response_model=ReferralOut)
    def accept(referral_id: str, principal: CurrentPrincipal) -> ReferralOut:
        return move(principal, referral_id, Action.accept, lambda r: ReferralAccepted(referral_id=r.referral_id))

    @router.post("/{referral_id}/arrange_accompaniment", response_model=ReferralOut)
    def arrange(referral_id: str, body: CompanionIn, principal: CurrentPrincipal) -> ReferralOut:
        return move(
            principal,
            referral_id,
            Action.arrange_accompaniment,
            lambda r: AccompanimentArranged(referral_id=r.referral_id, companion_id=body.companion_id),
        )

    @router.post("/{referral_id}/accompany", response_model=ReferralOut)
    def accompany(referral_id: str, principal: CurrentPrincipal, body: AccompanyIn | None = None) -> ReferralOut:
        def make(r: Referral) -> Event:
            companion = (body.companion_id if body else None) or r.companion_id
            if companion is None:
                raise Invalid("companion_id: no companion is arranged; say who went along", field="companion_id")
            return CitizenAccompanied(referral_id=r.referral_id, companion_id=companion)

        return move(principal, referral_id, Action.accompany, make)

    @router.post("/{referral_id}/welcome", response_model=ReferralOut)
    def welcome(referral_id: str, principal: CurrentPrincipal) -> ReferralOut:
        return move(
            principal,
            referral_id,
            Action.welcome,
            lambda r: WelcomeConfirmed(
                referral_id=r.referral_id, community_id=r.community_id, confirmed_by=principal.actor_id
            ),
        )

    @router.post("/{referral_id}/confirm_participation", response_model=ReferralOut)
    def confirm(referral_id: str, body: ParticipationIn, principal: CurrentPrincipal) -> ReferralOut:
        return move(
            principal,
            referral_id,
            Action.confirm_participation,
            lambda r: ParticipationConfirmed(
                referral_id=r.referral_id, weeks_after=body.weeks_after, still_participating=body.still_participating
            ),
        )

    @router.post("/{referral_id}/reject", response_model=ReferralOut)
    def reject(referral_id: str, body: RejectIn, principal: CurrentPrincipal) -> ReferralOut:
        return move(
            principal,
            referral_id,
            Action.reject,
            lambda r: ReferralRejected(referral_id=r.referral_id, reason=body.reason),
        )

    @router.post("/{referral_id}/cancel", response_model=ReferralOut)
    def cancel(referral_id: str, principal: CurrentPrincipal, body: CancelIn | None = None) -> ReferralOut:
        return move(principal, referral_id, Action.cancel, lambda r: ReferralCancelled(referral_id=r.referral_id))

    return router


# ---------------------------------------------------------------------- outreach and communities


def outreach_router(ctx: Context) -> APIRouter:
    router = APIRouter(tags=["outreach"])

    @router.post("/v1/outreach", status_code=201, summary="Record postcards, info meetings, door-to-door visits")
    def record(body: OutreachIn, principal: Referring) -> dict[str, object]:
        actor_id = body.actor_id or principal.actor_id
        if principal.role in domain.REFERRER_ROLES and actor_id != principal.actor_id:
            raise Forbidden("you can record only your own outreach (leave actor_id out)")

        def work(session: Session) -> dict[str, object]:
            event = OutreachRecorded(actor_id=actor_id, kind=body.kind, count=body.count, area=body.area)
            envelope = ctx.stage(session, event)
            ctx.applier.record_outreach(session, envelope, event)
            return {"event_id": envelope.id, "time": envelope.time.isoformat(), **event.model_dump()}

        return ctx.write(work)

    @router.get("/v1/communities", response_model=list[CommunityOut], tags=["communities"])
    def communities(_: CurrentPrincipal, include_archived: bool = False) -> list[CommunityOut]:
        def work(session: Session) -> list[CommunityOut]:
            query = select(Community).order_by(Community.name)
            if not include_archived:
                query = query.where(Community.archived.is_(False))
            return [
                CommunityOut(
                    community_id=c.community_id,
                    name=c.name,
                    area=c.area,
                    kind=c.kind,
                    categories=list(c.categories or []),
                    accepts_special_needs=c.accepts_special_needs,
                    capacity_status=c.capacity_status,
                    archived=c.archived,
                )
                for c in session.scalars(query)
            ]

        return ctx.read(work)

    return router


def no_content() -> Response:
    return Response(status_code=204)
