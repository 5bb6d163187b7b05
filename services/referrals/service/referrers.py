"""Use cases of referrers: activation (a cascade edge), readiness, the directory, outreach."""

from __future__ import annotations

from services.referrals import cascade, domain, store
from services.referrals.schemas import OutreachIn, ReadinessIn, ReferrerIn
from services.referrals.service.apply import Appliers
from services.referrals.service.batch import Seen, get_citizen, get_referrer
from services.referrals.tables import Referrer
from shared.clock import local
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Envelope
from shared.events.referrals import OutreachRecorded, ReadinessRecorded, ReferrerActivated, WorkContact
from shared.principal import Principal, Role
from shared.runtime import Runtime
from shared.uow import UnitOfWork


class Referrers:
    def __init__(self, runtime: Runtime, appliers: Appliers) -> None:
        self.runtime, self.appliers = runtime, appliers

    def activate(self, principal: Principal, body: ReferrerIn) -> Referrer:
        if principal.role is Role.ambassador and body.role != "ambassador":
            raise Forbidden("an ambassador can recruit ambassadors only; ask a guide to activate professionals")
        sector, area = cascade.sector_code(body.sector), cascade.area_code(body.area)

        def work(uow: UnitOfWork) -> Referrer:
            seen = Seen.of(uow.session)
            existing = seen.get(Referrer, body.actor_id)
            if existing is not None:
                by = f" by {existing.activated_by}" if existing.activated_by else ""
                raise Conflict(
                    f"referrer {body.actor_id!r} was already activated{by} on "
                    f"{local(existing.activated_at).date().isoformat()}; the first activation counts",
                    activated_by=existing.activated_by,
                )
            activated_by = body.activated_by
            caller_is_referrer = seen.get(Referrer, principal.actor_id) is not None
            if principal.role is Role.ambassador or (activated_by is None and caller_is_referrer):
                activated_by = principal.actor_id
            if activated_by is not None:
                get_referrer(uow.session, activated_by, field="activated_by")
            if body.citizen_ref is not None:
                get_citizen(uow.session, body.citizen_ref)
            event = ReferrerActivated(
                actor_id=body.actor_id,
                role=body.role,
                sector=sector,
                organization=body.organization,
                area=area,
                activated_by=activated_by,
                offers_accompaniment=body.offers_accompaniment,
                contact=WorkContact(**body.contact.model_dump()) if body.contact else None,
                citizen_ref=body.citizen_ref,
                name=body.name,
                languages=body.languages,
            )
            self.appliers.activate_referrer(uow.session, uow.stage(event)[0], event)
            if body.readiness is not None:
                level = ReadinessRecorded(actor_id=body.actor_id, level=body.readiness.value)
                self.appliers.record_readiness(uow.session, uow.stage(level)[0], level)
            return get_referrer(uow.session, body.actor_id, field="actor_id")

        return self.runtime.write(work)

    def record_readiness(self, actor_id: str, body: ReadinessIn) -> Referrer:
        def work(uow: UnitOfWork) -> Referrer:
            referrer = _referrer(uow.session.get(Referrer, actor_id), actor_id)
            if cascade.readiness_changed(referrer.readiness, body.level):
                event = ReadinessRecorded(actor_id=actor_id, level=body.level.value)
                self.appliers.record_readiness(uow.session, uow.stage(event)[0], event)
            return referrer

        return self.runtime.write(work)

    def get(self, actor_id: str) -> Referrer:
        return self.runtime.read(lambda session: _referrer(session.get(Referrer, actor_id), actor_id))

    def directory(
        self, *, role: str | None, area: str | None, activated_by: str | None, offers_accompaniment: bool | None
    ) -> list[Referrer]:
        code = cascade.area_code(area)
        return self.runtime.read(
            lambda session: store.list_referrers(
                session, role=role, area=code, activated_by=activated_by, offers_accompaniment=offers_accompaniment
            )
        )

    def record_outreach(self, principal: Principal, body: OutreachIn) -> tuple[Envelope, OutreachRecorded]:
        actor_id = body.actor_id or principal.actor_id
        if principal.role in domain.REFERRER_ROLES and actor_id != principal.actor_id:
            raise Forbidden("you can record only your own outreach (leave actor_id out)")
        event = OutreachRecorded(actor_id=actor_id, kind=body.kind, count=body.count, area=cascade.area_code(body.area))

        def work(uow: UnitOfWork) -> Envelope:
            (envelope,) = uow.stage(event)
            self.appliers.record_outreach(uow.session, envelope, event)
            return envelope

        return self.runtime.write(work), event


def _referrer(referrer: Referrer | None, actor_id: str) -> Referrer:
    if referrer is None:
        raise NotFound(f"referrer {actor_id!r} does not exist")
    return referrer
