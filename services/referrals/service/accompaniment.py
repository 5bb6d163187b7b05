"""Use cases of accompaniment requests: the list a volunteer (or guide) sees, taking one
(first to take wins), and saying no to one.

Taking is the lifecycle move `arrange_accompaniment` with the volunteer as companion. Two
volunteers taking at once: on SQLite the writers queue (`BEGIN IMMEDIATE`), so the second
reads the taken referral and gets 409; on PostgreSQL both may read it untaken, the second's
version-checked UPDATE matches nothing, and `transitions.move` answers the same 409.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.referrals import access, domain, store, visibility
from services.referrals.access import RequestState, Volunteer
from services.referrals.audit import Read, Reader
from services.referrals.domain import Action
from services.referrals.service.apply import Appliers
from services.referrals.service.batch import get_referral
from services.referrals.service.views import Shown, Views, shown_reads
from services.referrals.tables import AccompanimentDecline, Community, Referral, Referrer
from shared.errors import Forbidden
from shared.events.referrals import AccompanimentArranged
from shared.principal import Principal
from shared.runtime import Runtime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RequestView:
    referral: Referral
    state: RequestState
    community: Community | None


@dataclass(frozen=True)
class Requests:
    items: list[RequestView]
    shown: Shown  # the shared contacts of those that are the caller's own


def volunteer_of(session: Session, actor_id: str) -> Volunteer | None:
    referrer = session.get(Referrer, actor_id)
    if referrer is None:
        return None
    return Volunteer(referrer.actor_id, referrer.area, bool(referrer.offers_accompaniment))


def as_request(referral: Referral, community: Community | None, *, declined: bool) -> access.Request:
    return access.Request(
        referrer_id=referral.referrer_id,
        status=domain.Status(referral.status),
        needs_accompaniment=referral.needs_accompaniment,
        community_area=community.area if community else None,
        companion_id=referral.companion_id,
        arranged_at=referral.arranged_at,
        welcomed_at=referral.welcomed_at,
        declined=declined,
    )


def request_facts(session: Session, referral: Referral, actor_id: str) -> tuple[Volunteer | None, access.Request]:
    """What the access rules need to judge `actor_id` against one referral."""
    community = session.get(Community, referral.community_id)
    declined = session.get(AccompanimentDecline, (referral.referral_id, actor_id)) is not None
    return volunteer_of(session, actor_id), as_request(referral, community, declined=declined)


class Accompaniment:
    def __init__(self, runtime: Runtime, appliers: Appliers, views: Views) -> None:
        self.runtime, self.appliers, self.views = runtime, appliers, views

    def requests(self, principal: Reader) -> Requests:
        if principal.role not in visibility.REFERRER_ROLES | visibility.SEE_ALL:
            raise Forbidden(f"role '{principal.role.value}' does not accompany citizens; no requests to show")
        now = self.runtime.clock.now()
        me = principal.actor_id if principal.role in visibility.REFERRER_ROLES else None

        def work(session: Session) -> Requests:
            found = store.accompaniment_requests(session, actor_id=me, taken_since=now - access.TAKEN_SHOWN_FOR)
            volunteer = volunteer_of(session, me) if me else None
            declined = store.declined_by(session, me, [r.referral_id for r, _ in found]) if me else set()
            items = []
            for referral, community in found:
                request = as_request(referral, community, declined=referral.referral_id in declined)
                state = access.request_state(principal, volunteer, request, now)
                if state is not None:
                    items.append(RequestView(referral, state, community))
            mine = [item.referral for item in items if item.state is RequestState.mine]
            return Requests(items, self.views.build(session, principal, mine))

        found = self.runtime.read(work)
        # Every request listed is a referral of a citizen, whether or not it is the caller's own.
        listed = [Read(item.referral.citizen_ref, "list") for item in found.items]
        self.views.audited(principal, [*listed, *shown_reads(found.shown, "list")])
        return found

    def arrange(self, principal: Reader, referral_id: str, companion_id: str) -> Shown:
        """The referrer and guides arrange anyone; a volunteer takes it for themselves."""
        domain.check_can_act(principal, Action.arrange_accompaniment)

        def work(uow: UnitOfWork) -> Shown:
            referral = get_referral(uow.session, referral_id)
            if not _arranges_for_others(principal, referral):
                volunteer, request = request_facts(uow.session, referral, principal.actor_id)
                access.check_can_take(principal, volunteer, request, companion_id)
            event = AccompanimentArranged(referral_id=referral_id, companion_id=companion_id)
            moved = self.appliers.move(uow.session, uow.stage(event)[0], event, referral)
            return self.views.in_unit(uow, principal, [moved])

        return self.runtime.write(work)

    def decline(self, principal: Principal, referral_id: str) -> None:
        def work(uow: UnitOfWork) -> None:
            referral = get_referral(uow.session, referral_id)
            volunteer, request = request_facts(uow.session, referral, principal.actor_id)
            access.check_can_decline(principal, volunteer, request)
            if not request.declined:
                row = AccompanimentDecline(referral_id=referral_id, actor_id=principal.actor_id, at=uow.now())
                uow.session.add(row)

        self.runtime.write(work)


def _arranges_for_others(principal: Principal, referral: Referral) -> bool:
    return principal.role in visibility.SEE_ALL or principal.actor_id == referral.referrer_id
