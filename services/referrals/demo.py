"""The demo world (fictional people, realistic shape) that `make run` loads.

Three guides activate professionals and ambassadors, ambassadors recruit ambassadors (three
generations and more), one ambassador was once a referred citizen. About fifty citizens with
consent are referred over the last six months, with back-dated event times, into every
status; most to a community in their own area, some across areas. The people are in
`data/demo.json`; communities come from the catalogue's events, so the seeder first waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals.demo_story import (
    ACTORS,
    AGE_BANDS,
    CHANNELS,
    FIRST,
    FORMER_CITIZEN,
    GUIDE,
    LAST,
    LEVELS,
    OUTREACH,
    REASONS,
    SAME_AREA,
    STATUS_MIX,
    Actor,
    readiness_step,
)
from services.referrals.domain import Status
from services.referrals.service import ReferralsService
from services.referrals.service.apply import Consent
from services.referrals.store import community_count, is_empty
from services.referrals.tables import Community
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.errors import DomainError
from shared.events import Event
from shared.events import referrals as facts
from shared.profile import profile
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.referrals.demo")


async def seed_when_ready(service: ReferralsService, stop: asyncio.Event) -> None:
    """Wait (bounded) for the catalogue's communities, then seed once into an empty database."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + service.settings.demo_wait_seconds
    while not stop.is_set():
        if not await asyncio.to_thread(service.runtime.read, is_empty):
            return
        known = await asyncio.to_thread(service.runtime.read, community_count)
        if known >= service.settings.demo_min_communities or loop.time() >= deadline:
            counts = await asyncio.to_thread(seed, service)
            log.info("demo world seeded: %s", counts)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


@dataclass
class _Seeder:
    service: ReferralsService
    uow: UnitOfWork
    now: datetime
    rng: random.Random
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        return self.uow.session

    def record(self, event: Event, at: datetime) -> None:
        (envelope,) = self.uow.stage(event, time=at)
        self.service.appliers.apply(self.session, envelope, event)
        self.counts[type(event).__name__] = self.counts.get(type(event).__name__, 0) + 1

    def activate(self, actor: Actor, citizen_ref: str | None = None) -> None:
        at = self.now - timedelta(days=actor.days_ago, hours=self.rng.randint(0, 8))
        local = actor.actor_id.split("-", 1)[-1]
        email = f"{local}@{profile().code}.example.dk"
        phone = f"+45 57 62 {self.rng.randint(10, 99)} 00" if actor.role != "ambassador" else None
        event = facts.ReferrerActivated(
            actor_id=actor.actor_id,
            role=actor.role,
            sector=actor.sector,
            organization=actor.organization,
            area=actor.area,
            activated_by=actor.activated_by,
            offers_accompaniment=actor.accompanies,
            contact=facts.WorkContact(email=email, phone=phone),
            citizen_ref=citizen_ref,
            name=actor.name,
            languages=list(actor.languages),
        )
        self.record(event, at)
        if actor.role != "guide":
            for step, level in enumerate(LEVELS if actor.accompanies else LEVELS[:3], start=1):
                when = at + timedelta(days=7 * step)
                self.record(readiness_step(actor.actor_id, level, when), when)

    def citizen(self, number: int, at: datetime, area: str) -> str:
        ref = f"c-demo-{number:03d}"
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        groups = self.rng.sample(profile().target_group.codes, k=self.rng.choice((0, 1, 1, 2)))
        event = facts.CitizenRegistered(
            citizen_ref=ref, age_band=self.rng.choice(AGE_BANDS), area=area, target_groups=groups
        )
        (envelope,) = self.uow.stage(event, time=at)
        digits = " ".join(str(self.rng.randint(10, 99)) for _ in range(3))
        self.service.appliers.register_citizen(
            self.session,
            envelope,
            event,
            consent=Consent(purpose=profile().consent_purpose, date=at, recorded_by=GUIDE),
            registered_by=GUIDE,
            contact={
                "name": f"{first} {last}",
                "phone": f"+45 {self.rng.randint(20, 99)} {digits}",
                "email": f"{first.lower()}.{last.lower()}{number}@example.dk",
            },
            languages=["da", "ar"] if "newcomer" in groups else ["da"],
        )
        self.counts["facts.CitizenRegistered"] = self.counts.get("facts.CitizenRegistered", 0) + 1
        return ref

    def home_for(self, community: Community) -> str:
        """Where a citizen referred to `community` lives: mostly its own area."""
        codes = profile().area.codes
        if community.area in codes and self.rng.random() < SAME_AREA:
            return community.area
        return self.rng.choice([code for code in codes if code != community.area])

    def referral(
        self,
        number: int,
        citizen_ref: str,
        community: Community,
        referrer: str,
        target: Status,
        start: datetime,
        companions: list[str],
    ) -> Status:
        """Create a referral at `start` and walk it to `target`, stopping at now."""
        rid = f"r-demo-{number:03d}"
        needs = target in (Status.accompaniment_arranged, Status.accompanied) or self.rng.random() < 0.3
        self.record(
            facts.ReferralCreated(
                referral_id=rid,
                citizen_ref=citizen_ref,
                community_id=community.community_id,
                referrer_id=referrer,
                needs_accompaniment=needs,
                special_considerations=self.rng.random() < 0.25,
                channel=self.rng.choice(CHANNELS),
            ),
            start,
        )
        at, reached = start, Status.requested
        companion = self.rng.choice(companions) if companions else None
        contact = DEMO_ACTORS["community_contact"] if community.community_id == DEMO_CONTACT_COMMUNITY_ID else GUIDE
        path: list[tuple[Event, Status, int]] = []
        if target is Status.cancelled:
            path.append((facts.ReferralCancelled(referral_id=rid), Status.cancelled, 5))
        elif target is Status.rejected:
            if self.rng.random() < 0.5:
                path.append((facts.ReferralAccepted(referral_id=rid), Status.accepted, 3))
            rejected = facts.ReferralRejected(referral_id=rid, reason=self.rng.choice(REASONS))
            path.append((rejected, Status.rejected, 6))
        elif target is Status.no_show:
            path.append((facts.ReferralAccepted(referral_id=rid), Status.accepted, 4))
            visit = facts.FirstVisitProposed(referral_id=rid, visit_at=at + timedelta(days=10), proposed_by=contact)
            path.append((visit, Status.accepted, 1))
            path.append((facts.NoShowReported(referral_id=rid, reported_by=contact), Status.no_show, 7))
        elif target is not Status.requested:
            path.append((facts.ReferralAccepted(referral_id=rid), Status.accepted, 4))
            if needs and companion and target is not Status.accepted:
                arranged = facts.AccompanimentArranged(referral_id=rid, companion_id=companion)
                path.append((arranged, Status.accompaniment_arranged, 3))
                if target is not Status.accompaniment_arranged:
                    path.append(
                        (facts.CitizenAccompanied(referral_id=rid, companion_id=companion), Status.accompanied, 6)
                    )
            if target in (Status.welcomed, Status.participating, Status.ended):
                welcome = facts.WelcomeConfirmed(
                    referral_id=rid, community_id=community.community_id, confirmed_by=contact
                )
                path.append((welcome, Status.welcomed, 1))
            for weeks, days in ((4, 28), (12, 56)) if target is Status.participating else ():
                still = facts.ParticipationConfirmed(referral_id=rid, weeks_after=weeks, still_participating=True)
                path.append((still, Status.participating, days))
            if target is Status.ended:
                ended = facts.ParticipationConfirmed(referral_id=rid, weeks_after=4, still_participating=False)
                path.append((ended, Status.ended, 28))
        for event, status, days in path:
            at = at + timedelta(days=days, hours=self.rng.randint(0, 20))
            if at >= self.now:
                break
            self.record(event, at)
            reached = status
        return reached

    def referrals(self, communities: list[Community]) -> None:
        rng = self.rng
        referrers = [a.actor_id for a in ACTORS if a.role != "guide"] * 3 + [GUIDE, "guide-bo", "guide-fatima"]
        companions = [a.actor_id for a in ACTORS if a.accompanies]
        lasting = [c for c in communities if c.kind != "practice_track"] or communities
        tracks = [c for c in communities if c.kind == "practice_track"]
        demo_community = next((c for c in communities if c.community_id == DEMO_CONTACT_COMMUNITY_ID), None)
        registered = self.now - timedelta(days=186)
        citizens: list[tuple[str, str]] = []
        for number, target in enumerate(STATUS_MIX, start=1):
            community = rng.choice(lasting)
            if demo_community is not None and number % 6 == 0:
                community = demo_community  # the demo contact's inbox has something in it
            home = self.home_for(community)
            ref = self.citizen(number, registered - timedelta(hours=number), home)
            citizens.append((ref, home))
            # Finished stories start long ago; open ones recently, so that some are overdue.
            # Every other story needs room for its steps (up to ~3 weeks) before today.
            if target in (Status.participating, Status.ended):
                days_ago = rng.randint(100, 178)
            elif target is Status.requested:
                days_ago = rng.randint(3, 90)
            else:
                days_ago = rng.randint(25, 90)
            start = self.now - timedelta(days=days_ago, hours=rng.randint(0, 12))
            try:
                with self.session.begin_nested():
                    self.referral(number, ref, community, rng.choice(referrers), target, start, companions)
            except DomainError as exc:  # one odd community must not cost the whole demo
                log.warning("demo referral %s left out: %s", number, exc.message)
        onward = rng.choice(lasting)
        nadia_ref = self.citizen(900, registered, self.home_for(onward))
        self.referral(
            900, nadia_ref, onward, "amb-yusuf", Status.participating, self.now - timedelta(days=140), companions
        )
        self.activate(FORMER_CITIZEN, citizen_ref=nadia_ref)

        def near(home: str) -> Community:
            return next((c for c in lasting if c.area == home), rng.choice(lasting))

        # Practice tracks: a dinner club first, then a lasting community near home.
        for number, (ref, home) in enumerate(citizens[:3], start=910):
            if not tracks:
                break
            track = rng.choice(tracks)
            start = self.now - timedelta(days=rng.randint(120, 160))
            self.referral(number, ref, track, "prof-socpsyk-ahmed", Status.welcomed, start, companions)
            reached = self.referral(
                number + 10, ref, near(home), "prof-socpsyk-ahmed", Status.welcomed,
                start + timedelta(days=45), companions,
            )  # fmt: skip
            if reached is Status.welcomed:
                bridge = facts.CitizenBridged(
                    citizen_ref=ref, from_community_id=track.community_id, to_referral_id=f"r-demo-{number + 10:03d}"
                )
                self.record(bridge, start + timedelta(days=60))

    def outreach(self) -> None:
        for days_ago in range(170, 0, -14):
            actor = self.rng.choice([a for a in ACTORS if a.role != "guide"])
            kind = self.rng.choice(OUTREACH)
            count = self.rng.randint(10, 60) if kind == "postcards" else self.rng.randint(1, 15)
            event = facts.OutreachRecorded(actor_id=actor.actor_id, kind=kind, count=count, area=actor.area)
            self.record(event, self.now - timedelta(days=days_ago))


def seed(service: ReferralsService, now: datetime | None = None, seed_value: int = 20240901) -> dict[str, int]:
    """Seed the demo world in one unit of work (all or nothing); returns events per type."""

    def work(uow: UnitOfWork) -> dict[str, int]:
        if not is_empty(uow.session):
            return {}
        seeder = _Seeder(service, uow, now or uow.now(), random.Random(seed_value))
        for actor in ACTORS:
            seeder.activate(actor)
        query = select(Community).where(Community.archived.is_(False)).order_by(Community.community_id)
        communities = list(uow.session.scalars(query))
        if communities:
            seeder.referrals(communities)
        else:
            log.warning("no communities known from the catalogue; demo referrals left out")
        seeder.outreach()
        return seeder.counts

    return service.runtime.write(work)
