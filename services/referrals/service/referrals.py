"""Use cases of referrals: refer a citizen, list and read what you may see, the timeline,
companions for accompaniment, and every lifecycle move."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy.orm import Session

from services.referrals import companions, domain, store
from services.referrals.domain import Action
from services.referrals.schemas import ReferralIn
from services.referrals.service.apply import Appliers
from services.referrals.service.batch import get_citizen, get_referral
from services.referrals.service.citizens import check_knows_citizen
from services.referrals.service.transitions import create_referral, move
from services.referrals.tables import Citizen, Community, Referral, Referrer, TimelineEntry
from shared.clock import local
from shared.errors import Forbidden
from shared.events import Event
from shared.events.referrals import ReferralCreated
from shared.ids import new_id
from shared.principal import Principal, Role
from shared.runtime import Runtime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Shown:
    """Referrals with the names of their communities, as one reads them."""

    referrals: list[Referral]
    community_names: dict[str, str]


@dataclass(frozen=True)
class Companion:
    referrer: Referrer
    ranked: companions.RankedCompanion


class Referrals:
    def __init__(self, runtime: Runtime, appliers: Appliers) -> None:
        self.runtime, self.appliers = runtime, appliers

    def create(self, principal: Principal, body: ReferralIn) -> Shown:
        referrer_id = body.referrer_id or principal.actor_id
        if principal.role in domain.REFERRER_ROLES and referrer_id != principal.actor_id:
            raise Forbidden("you can refer only as yourself (leave referrer_id out)")

        def work(uow: UnitOfWork) -> Shown:
            citizen = get_citizen(uow.session, body.citizen_ref)
            if principal.role in domain.REFERRER_ROLES and citizen.registered_by != principal.actor_id:
                check_knows_citizen(uow.session, principal, citizen)
            event = ReferralCreated(
                referral_id=new_id(),
                citizen_ref=body.citizen_ref,
                community_id=body.community_id,
                referrer_id=referrer_id,
                needs_accompaniment=body.needs_accompaniment,
                special_considerations=body.special_considerations,
                channel=body.channel,
            )
            envelope = uow.stage(event)[0]
            referral = create_referral(uow.session, envelope, event, override_full=body.override_full, note=body.note)
            return _shown(uow.session, [referral])

        return self.runtime.write(work)

    def visible(
        self,
        principal: Principal,
        *,
        status: list[domain.Status],
        referrer: str | None,
        community: str | None,
        citizen: str | None,
        overdue: int | None,
        limit: int,
        offset: int,
    ) -> Shown:
        communities: list[str] | None = [community] if community else None
        visible_to = None
        if principal.role is Role.community_contact:
            allowed = list(principal.communities)
            communities = [c for c in communities if c in allowed] if communities else allowed
        elif principal.role in domain.REFERRER_ROLES:
            visible_to = principal.actor_id
        elif principal.role not in domain.SEE_ALL:
            raise Forbidden(f"role '{principal.role.value}' cannot list referrals; analysts read aggregates")
        now = self.runtime.clock.now()

        def work(session: Session) -> Shown:
            rows = store.list_referrals(
                session,
                status=[s.value for s in status],
                referrer_id=referrer,
                community_ids=communities,
                citizen_ref=citizen,
                visible_to_actor=visible_to,
                overdue_days=overdue,
                now=now,
                limit=limit,
                offset=offset,
            )
            return _shown(session, rows)

        return self.runtime.read(work)

    def get(self, principal: Principal, referral_id: str) -> Shown:
        return self.runtime.read(lambda session: _shown(session, [visible_referral(session, principal, referral_id)]))

    def timeline(self, principal: Principal, referral_id: str) -> list[TimelineEntry]:
        def work(session: Session) -> list[TimelineEntry]:
            visible_referral(session, principal, referral_id)
            return store.timeline_of(session, referral_id)

        return self.runtime.read(work)

    def companions(self, principal: Principal, referral_id: str, limit: int) -> list[Companion]:
        start = local(self.runtime.clock.now()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        month_start = start.astimezone(UTC)

        def work(session: Session) -> list[Companion]:
            referral = visible_referral(session, principal, referral_id)
            community = session.get(Community, referral.community_id)
            citizen = session.get(Citizen, referral.citizen_ref)
            need = companions.CompanionNeed(
                community_area=community.area if community else None,
                community_categories=frozenset(community.categories if community else []),
                citizen_area=citizen.area if citizen else None,
                citizen_languages=frozenset(citizen.languages if citizen else []),
            )
            found = store.companion_candidates(session, month_start)
            by_id = {referrer.actor_id: referrer for referrer, _, _ in found}
            candidates = [
                companions.CompanionCandidate(
                    actor_id=referrer.actor_id,
                    area=referrer.area,
                    languages=frozenset(referrer.languages or []),
                    accompanied_categories=frozenset(categories),
                    accompaniments_this_month=count,
                )
                for referrer, categories, count in found
            ]
            ranked = companions.rank_companions(candidates, need)[:limit]
            return [Companion(by_id[r.actor_id], r) for r in ranked]

        return self.runtime.read(work)

    def move(self, principal: Principal, referral_id: str, action: Action, make: Callable[[Referral], Event]) -> Shown:
        """One lifecycle move by `principal`; `make` builds its event from the referral."""
        domain.check_can_act(principal, action)

        def work(uow: UnitOfWork) -> Shown:
            referral = visible_referral(uow.session, principal, referral_id)
            event = make(referral)
            moved = move(uow.session, uow.stage(event)[0], event, referral)
            return _shown(uow.session, [moved])

        return self.runtime.write(work)


def visible_referral(session: Session, principal: Principal, referral_id: str) -> Referral:
    referral = get_referral(session, referral_id)
    domain.check_can_see(
        principal,
        referrer_id=referral.referrer_id,
        companion_id=referral.companion_id,
        community_id=referral.community_id,
    )
    return referral


def _shown(session: Session, referrals: list[Referral]) -> Shown:
    return Shown(referrals, store.community_names(session, [r.community_id for r in referrals]))
