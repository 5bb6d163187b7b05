"""Use cases of referrers: activation (a cascade edge), readiness and training, the
directory, outreach."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from services.referrals import cascade, referrer_store, visibility
from services.referrals.schemas import OutreachIn, ReadinessIn, ReferrerIn, TrainingIn
from services.referrals.service.apply import Appliers
from services.referrals.service.batch import Seen, get_citizen, get_referrer
from services.referrals.tables import Referrer, Training
from shared.clock import local
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import Envelope
from shared.events.referrals import (
    OutreachRecorded,
    ReadinessRecorded,
    ReferrerActivated,
    TrainingRecorded,
    WorkContact,
)
from shared.principal import Principal, Role
from shared.profile import profile
from shared.runtime import Runtime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ReferrerView:
    """A referrer with their trainings and how much they have referred."""

    referrer: Referrer
    trainings: list[Training] = field(default_factory=list)
    referral_count: int = 0
    last_referral_at: datetime | None = None


@dataclass(frozen=True)
class DirectoryQuery:
    role: str | None = None
    area: str | None = None
    activated_by: str | None = None
    offers_accompaniment: bool | None = None
    email: str | None = None
    readiness: cascade.Readiness | None = None
    has_referred: bool | None = None


def views_of(session: Session, referrers: list[Referrer]) -> list[ReferrerView]:
    ids = [r.actor_id for r in referrers]
    trainings, counts = referrer_store.trainings_of(session, ids), referrer_store.referral_counts(session, ids)
    return [ReferrerView(r, trainings.get(r.actor_id, []), *counts.get(r.actor_id, (0, None))) for r in referrers]


class Referrers:
    def __init__(self, runtime: Runtime, appliers: Appliers) -> None:
        self.runtime, self.appliers = runtime, appliers

    def activate(self, principal: Principal, body: ReferrerIn) -> ReferrerView:
        if principal.role is Role.ambassador and body.role != "ambassador":
            raise Forbidden("an ambassador can recruit ambassadors only; ask a guide to activate professionals")
        sector, area = cascade.sector_code(body.sector), cascade.area_code(body.area)

        def work(uow: UnitOfWork) -> ReferrerView:
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
            return views_of(uow.session, [get_referrer(uow.session, body.actor_id, field="actor_id")])[0]

        return self.runtime.write(work)

    def record_readiness(self, actor_id: str, body: ReadinessIn) -> ReferrerView:
        def work(uow: UnitOfWork) -> ReferrerView:
            referrer = _referrer(uow.session.get(Referrer, actor_id), actor_id)
            if cascade.readiness_changed(referrer.readiness, body.level):
                event = ReadinessRecorded(actor_id=actor_id, level=body.level.value)
                self.appliers.record_readiness(uow.session, uow.stage(event)[0], event)
            return views_of(uow.session, [referrer])[0]

        return self.runtime.write(work)

    def record_training(self, actor_id: str, body: TrainingIn) -> ReferrerView:
        """A guide trained a referrer; the first training moves them up to trained."""
        topic = profile().training_topic.check(body.topic, "topic")
        if body.trained_on > local(self.runtime.clock.now()).date() + timedelta(days=1):
            raise Invalid("trained_on: a training cannot be recorded before it has happened", field="trained_on")

        def work(uow: UnitOfWork) -> ReferrerView:
            referrer = _referrer(uow.session.get(Referrer, actor_id), actor_id)
            event = TrainingRecorded(actor_id=actor_id, trained_on=body.trained_on, topic=topic)
            self.appliers.progress.record_training(uow.session, uow.stage(event)[0], event)
            return views_of(uow.session, [referrer])[0]

        return self.runtime.write(work)

    def get(self, actor_id: str) -> ReferrerView:
        return self.runtime.read(
            lambda session: views_of(session, [_referrer(session.get(Referrer, actor_id), actor_id)])[0]
        )

    def directory(self, principal: Principal, query: DirectoryQuery) -> list[ReferrerView]:
        if query.email is not None and principal.role not in visibility.SEE_ALL:
            raise Forbidden("only guides and admins look referrers up by e-mail")
        code = cascade.area_code(query.area)

        def work(session: Session) -> list[ReferrerView]:
            found = referrer_store.list_referrers(
                session,
                role=query.role,
                area=code,
                activated_by=query.activated_by,
                offers_accompaniment=query.offers_accompaniment,
                email=query.email,
                readiness=query.readiness.value if query.readiness else None,
                has_referred=query.has_referred,
            )
            return views_of(session, found)

        return self.runtime.read(work)

    def record_outreach(self, principal: Principal, body: OutreachIn) -> tuple[Envelope, OutreachRecorded]:
        actor_id = body.actor_id or principal.actor_id
        if principal.role in visibility.REFERRER_ROLES and actor_id != principal.actor_id:
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
