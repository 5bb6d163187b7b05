"""Use cases of referrals: refer a citizen, list and read what you may see, the timeline,
companions for accompaniment, every lifecycle move, and the loneliness measure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from services.referrals import access, companions, domain, followup, referrer_store, store, visibility
from services.referrals.audit import Read, Reader
from services.referrals.crypto import Unreadable
from services.referrals.domain import Action
from services.referrals.schemas import LonelinessIn, ReferralIn
from services.referrals.service.accompaniment import request_facts
from services.referrals.service.apply import Appliers
from services.referrals.service.batch import Gone, get_citizen, get_referral
from services.referrals.service.citizens import check_knows_citizen, open_attributes
from services.referrals.service.erasure import hold_citizen
from services.referrals.service.transitions import Details
from services.referrals.service.views import Shown, Views
from services.referrals.tables import Citizen, Community, Referral, Referrer, TimelineEntry
from shared.clock import local
from shared.errors import Forbidden, Invalid
from shared.events import Event
from shared.events.referrals import LonelinessMeasured, ReferralCreated
from shared.ids import new_id
from shared.principal import Principal, Role
from shared.runtime import Runtime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Companion:
    referrer: Referrer
    ranked: companions.RankedCompanion


class Referrals:
    def __init__(self, runtime: Runtime, appliers: Appliers, views: Views) -> None:
        self.runtime, self.appliers, self.views = runtime, appliers, views

    def create(self, principal: Reader, body: ReferralIn) -> Shown:
        referrer_id = body.referrer_id or principal.actor_id
        if principal.role in visibility.REFERRER_ROLES and referrer_id != principal.actor_id:
            raise Forbidden("you can refer only as yourself (leave referrer_id out)")

        def work(uow: UnitOfWork) -> Shown:
            if hold_citizen(uow.session, body.citizen_ref):  # not while an erasure of them runs
                raise Gone(f"citizen {body.citizen_ref!r} has been erased", field="citizen_ref")
            citizen = get_citizen(uow.session, body.citizen_ref)
            if principal.role in visibility.REFERRER_ROLES and citizen.registered_by != principal.actor_id:
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
            # Sealed attributes are stored exactly when consent is recorded.
            if body.share_note_with_community and citizen.attributes_ciphertext is None:
                raise Invalid(
                    "share_note_with_community: the note is shared with the community and the companion only "
                    "with the citizen's consent, and none is recorded; record consent first or leave it false",
                    field="share_note_with_community",
                )
            envelope = uow.stage(event)[0]
            details = Details(
                override_full=body.override_full,
                note_ciphertext=self._sealed_note(event, body.note),
                share_contact=body.share_contact_with_community,
                share_note=body.share_note_with_community,
            )
            referral = self.appliers.create_referral(uow.session, envelope, event, details)
            return self.views.in_unit(uow, principal, [referral])

        return self.runtime.write(work)

    def _sealed_note(self, event: ReferralCreated, note: str | None) -> bytes | None:
        if not note:
            return None
        try:
            key = self.appliers.vault.key_to_seal(event.citizen_ref)
        except Unreadable as exc:  # erased since we looked
            raise Gone(f"citizen {event.citizen_ref!r} has been erased", field="citizen_ref") from exc
        return key.seal_note(event.referral_id, note)

    def visible(
        self,
        principal: Reader,
        *,
        status: list[domain.Status],
        referrer: str | None,
        community: str | None,
        citizen: str | None,
        overdue: int | None,
        follow_up_overdue: bool = False,
        limit: int,
        offset: int,
    ) -> Shown:
        communities: list[str] | None = [community] if community else None
        visible_to = None
        if principal.role is Role.community_contact:
            allowed = list(principal.communities)
            communities = [c for c in communities if c in allowed] if communities else allowed
        elif principal.role in visibility.REFERRER_ROLES:
            visible_to = principal.actor_id
        elif principal.role not in visibility.SEE_ALL:
            raise Forbidden(f"role '{principal.role.value}' cannot list referrals; analysts read aggregates")
        now = self.runtime.clock.now()

        def find(session: Session) -> list[Referral]:
            return store.list_referrals(
                session,
                status=[s.value for s in status],
                referrer_id=referrer,
                community_ids=communities,
                citizen_ref=citizen,
                visible_to_actor=visible_to,
                overdue_days=overdue,
                follow_up_overdue=follow_up_overdue,
                now=now,
                limit=limit,
                offset=offset,
            )

        return self.views.read(principal, find, "list")

    def get(self, principal: Reader, referral_id: str) -> Shown:
        now = self.runtime.clock.now()
        # A candidate companion reads an open request too (the view hides the note and contact).
        return self.views.read(principal, lambda s: [visible_referral(s, principal, referral_id, candidate_at=now)])

    def timeline(self, principal: Reader, referral_id: str) -> list[TimelineEntry]:
        def work(session: Session) -> tuple[str, list[TimelineEntry]]:
            citizen_ref = visible_referral(session, principal, referral_id).citizen_ref
            return citizen_ref, store.timeline_of(session, referral_id)

        citizen_ref, entries = self.runtime.read(work)
        self.views.audited(principal, [Read(citizen_ref, "timeline", referral_id)])
        return entries

    def companions(self, principal: Principal, referral_id: str, limit: int) -> list[Companion]:
        start = local(self.runtime.clock.now()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        month_start = start.astimezone(UTC)

        def work(session: Session) -> list[Companion]:
            referral = visible_referral(session, principal, referral_id)
            community = session.get(Community, referral.community_id)
            citizen = session.get(Citizen, referral.citizen_ref)
            opened = open_attributes(citizen, self.appliers.vault.key_of(citizen.citizen_ref)) if citizen else None
            need = companions.CompanionNeed(
                community_area=community.area if community else None,
                community_categories=frozenset(community.categories if community else []),
                citizen_area=opened.area if opened else None,
                citizen_languages=frozenset(opened.languages if opened else ()),
            )
            found = referrer_store.companion_candidates(session, month_start)
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

    def move(self, principal: Reader, referral_id: str, action: Action, make: Callable[[Referral], Event]) -> Shown:
        """One lifecycle move by `principal`; `make` builds its event from the referral."""
        domain.check_can_act(principal, action)

        def work(uow: UnitOfWork) -> Shown:
            referral = visible_referral(uow.session, principal, referral_id)
            event = make(referral)
            moved = self.appliers.move(uow.session, uow.stage(event)[0], event, referral)
            return self.views.in_unit(uow, principal, [moved])

        return self.runtime.write(work)

    def measure_loneliness(self, principal: Reader, referral_id: str, body: LonelinessIn) -> Shown:
        score = followup.loneliness_score(body.answers, consent=body.consent)

        def work(uow: UnitOfWork) -> Shown:
            referral = visible_referral(uow.session, principal, referral_id)
            access.check_can_measure(principal, referrer_id=referral.referrer_id)
            event = LonelinessMeasured(
                referral_id=referral_id, moment=body.moment, score=score, citizen_ref=referral.citizen_ref
            )
            self.appliers.progress.record_loneliness(uow.session, uow.stage(event)[0], event)
            return self.views.in_unit(uow, principal, [referral])

        return self.runtime.write(work)


def visible_referral(
    session: Session, principal: Principal, referral_id: str, *, candidate_at: datetime | None = None
) -> Referral:
    """The referral if `principal` may see it (with `candidate_at`: also as an open accompaniment
    request at that time); 404 unknown, 403 not theirs."""
    referral = get_referral(session, referral_id)
    referrer_id, companion_id, community_id = referral.referrer_id, referral.companion_id, referral.community_id
    if candidate_at is not None and not visibility.can_see(
        principal, referrer_id=referrer_id, companion_id=companion_id, community_id=community_id
    ):
        volunteer, request = request_facts(session, referral, principal.actor_id)
        if access.is_candidate(principal, volunteer, request, candidate_at):
            return referral
    visibility.check_can_see(principal, referrer_id=referrer_id, companion_id=companion_id, community_id=community_id)
    return referral
