"""The demo world of Ringsted (fictional people, realistic shape) that `make run` loads.

Three guides activate professionals and ambassadors, ambassadors recruit ambassadors (three
generations and more), one ambassador was once a referred citizen. About forty citizens with
consent are referred over the last six months, with back-dated event times, into every
status. Communities come from the catalogue's events, so the seeder first waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals.api import Context
from services.referrals.domain import Status
from services.referrals.handlers import Consent
from services.referrals.store import Community, community_count, is_empty
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.errors import DomainError
from shared.events import Event
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenBridged,
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

log = logging.getLogger("vejviser.referrals.demo")

DOMAIN = "ringsted.example.dk"
AREAS = ("Vestervang", "Nørrevang", "Benløse", "Ringsted Centrum", "Rønnebærparken", "Kongsted")
TARGET_GROUPS = ("social_psychiatry", "disability", "unemployment", "chronic_illness", "newcomer")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
FIRST = (
    "Birthe", "Henrik", "Jonas", "Maja", "Ole", "Lene", "Ali", "Mona", "Kurt", "Sanne", "Per", "Aisha", "Tove",
    "Mikkel", "Dorte", "Svend", "Hiba", "Rasmus", "Inge", "Thomas",
)  # fmt: skip
LAST = (
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Hassan",
)


@dataclass(frozen=True)
class Actor:
    actor_id: str
    role: str
    name: str
    activated_by: str | None
    days_ago: int
    area: str
    sector: str | None = None
    organization: str | None = None
    accompanies: bool = False
    languages: tuple[str, ...] = ("da",)


GUIDE = DEMO_ACTORS["guide"]
PROFESSIONAL = DEMO_ACTORS["professional"]
AMBASSADOR = DEMO_ACTORS["ambassador"]

ACTORS = (
    # generation 0: the three community guides
    Actor(GUIDE, "guide", "Anne Sørensen", None, 240, "Ringsted Centrum", organization="Fællesskabsby"),
    Actor("guide-bo", "guide", "Bo Kristiansen", None, 240, "Vestervang", organization="Fællesskabsby"),
    Actor("guide-fatima", "guide", "Fatima Ali", None, 230, "Nørrevang", organization="Fællesskabsby",
          languages=("da", "ar")),
    # generation 1: professionals and ambassadors the guides trained
    Actor(PROFESSIONAL, "professional", "Mette Holm", GUIDE, 220, "Ringsted Centrum", "job_centre",
          "Jobcenter Ringsted"),
    Actor("prof-sundhed-jens", "professional", "Jens Mortensen", "guide-bo", 215, "Ringsted Centrum",
          "health_centre", "Sundhedscenter Ringsted"),
    Actor("prof-bibliotek-karin", "professional", "Karin Lund", GUIDE, 210, "Ringsted Centrum", "library",
          "Ringsted Bibliotek"),
    Actor("prof-socpsyk-ahmed", "professional", "Ahmed Yilmaz", "guide-fatima", 200, "Nørrevang",
          "social_psychiatry", "Socialpsykiatrien Ringsted"),
    Actor("prof-laege-hanne", "professional", "Hanne Vestergaard", "guide-bo", 190, "Benløse", "gp",
          "Lægehuset i Benløse"),
    Actor("prof-bolig-ida", "professional", "Ida Friis", "guide-fatima", 185, "Vestervang",
          "housing_social_work", "Boligsocialt team, DAB"),
    Actor("prof-frisor-sara", "professional", "Sara Brandt", GUIDE, 150, "Ringsted Centrum", "private_business",
          "Salon Sara"),
    Actor(AMBASSADOR, "ambassador", "Lars Bech", GUIDE, 205, "Vestervang", accompanies=True),
    Actor("amb-gitte", "ambassador", "Gitte Dahl", "guide-bo", 200, "Benløse", accompanies=True),
    Actor("amb-yusuf", "ambassador", "Yusuf Abdi", "guide-fatima", 195, "Nørrevang", accompanies=True,
          languages=("da", "so", "ar")),
    # generation 2: ambassadors recruited by ambassadors (and one by a professional)
    Actor("amb-birgit", "ambassador", "Birgit Krogh", AMBASSADOR, 170, "Vestervang", accompanies=True),
    Actor("amb-karsten", "ambassador", "Karsten Møller", "amb-gitte", 160, "Kongsted"),
    Actor("amb-jytte", "ambassador", "Jytte Skov", "prof-bibliotek-karin", 140, "Ringsted Centrum",
          accompanies=True),
    # generation 3
    Actor("amb-poul", "ambassador", "Poul Thygesen", "amb-birgit", 110, "Rønnebærparken", accompanies=True),
)  # fmt: skip
# The ambassador who was once a referred citizen (activated by an ambassador after her welcome).
FORMER_CITIZEN = Actor("amb-nadia", "ambassador", "Nadia Omar", "amb-yusuf", 45, "Nørrevang", accompanies=True,
                       languages=("da", "ar"))  # fmt: skip

# Target statuses of the demo referrals: every status, weighted towards how it looks in life.
STATUS_MIX = (
    [Status.requested] * 6
    + [Status.accepted] * 5
    + [Status.accompaniment_arranged] * 3
    + [Status.accompanied] * 2
    + [Status.welcomed] * 8
    + [Status.participating] * 12
    + [Status.ended] * 4
    + [Status.rejected] * 5
    + [Status.cancelled] * 3
)


async def seed_when_ready(ctx: Context) -> None:
    """Wait (bounded) for the catalogue's communities, then seed once into an empty database."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.settings.demo_wait_seconds
    try:
        while True:
            if not await asyncio.to_thread(ctx.read, is_empty):
                return
            known = await asyncio.to_thread(ctx.read, community_count)
            if known >= ctx.settings.demo_min_communities or loop.time() >= deadline:
                break
            await asyncio.sleep(1.0)
        counts = await asyncio.to_thread(seed, ctx)
        log.info("demo world seeded: %s", counts)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("seeding the demo world failed")


class _Seeder:
    def __init__(self, ctx: Context, session: Session, now: datetime, rng: random.Random) -> None:
        self.ctx, self.session, self.now, self.rng = ctx, session, now, rng
        self.counts: dict[str, int] = {}

    def record(self, event: Event, at: datetime) -> None:
        envelope = self.ctx.runtime.stage(self.session, event, time=at)[0]
        self.ctx.applier.apply(self.session, envelope, event)
        self.counts[type(event).__name__] = self.counts.get(type(event).__name__, 0) + 1

    def activate(self, actor: Actor, citizen_ref: str | None = None) -> None:
        at = self.now - timedelta(days=actor.days_ago, hours=self.rng.randint(0, 8))
        local = actor.actor_id.split("-", 1)[-1]
        self.record(
            ReferrerActivated(
                actor_id=actor.actor_id,
                role=actor.role,  # type: ignore[arg-type]
                sector=actor.sector,
                organization=actor.organization,
                area=actor.area,
                activated_by=actor.activated_by,
                offers_accompaniment=actor.accompanies,
                contact=WorkContact(email=f"{local}@{DOMAIN}", phone=f"+45 57 62 {self.rng.randint(10, 99)} 00")
                if actor.role != "ambassador"
                else WorkContact(email=f"{local}@{DOMAIN}"),
                citizen_ref=citizen_ref,
                name=actor.name,
                languages=list(actor.languages),
            ),
            at,
        )
        if actor.role != "guide":
            levels = ["aware", "trained", "referring"] + (["accompanying"] if actor.accompanies else [])
            for step, level in enumerate(levels, start=1):
                self.record(ReadinessRecorded(actor_id=actor.actor_id, level=level), at + timedelta(days=7 * step))  # type: ignore[arg-type]

    def citizen(self, number: int, at: datetime) -> str:
        ref = f"c-demo-{number:03d}"
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        groups = self.rng.sample(TARGET_GROUPS, k=self.rng.choice((0, 1, 1, 2)))
        event = CitizenRegistered(
            citizen_ref=ref, age_band=self.rng.choice(AGE_BANDS), area=self.rng.choice(AREAS), target_groups=groups
        )
        envelope = self.ctx.runtime.stage(self.session, event, time=at)[0]
        self.ctx.applier.register_citizen(
            self.session,
            envelope,
            event,
            consent=Consent(purpose="Henvisning til fællesskaber i Fællesskabsby", date=at, recorded_by=GUIDE),
            registered_by=GUIDE,
            contact={
                "name": f"{first} {last}",
                "phone": f"+45 {self.rng.randint(20, 99)} {self.rng.randint(10, 99)} {self.rng.randint(10, 99)} "
                f"{self.rng.randint(10, 99)}",
                "email": f"{first.lower()}.{last.lower()}{number}@example.dk",
            },
            languages=["da", "ar"] if "newcomer" in groups else ["da"],
        )
        self.counts["CitizenRegistered"] = self.counts.get("CitizenRegistered", 0) + 1
        return ref

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
            ReferralCreated(
                referral_id=rid,
                citizen_ref=citizen_ref,
                community_id=community.community_id,
                referrer_id=referrer,
                needs_accompaniment=needs,
                special_considerations=self.rng.random() < 0.25,
                channel=self.rng.choice(("in_person", "in_person", "postcard", "phone", "website")),  # type: ignore[arg-type]
            ),
            start,
        )
        at, reached = start, Status.requested
        companion = self.rng.choice(companions) if companions else None
        contact = DEMO_ACTORS["community_contact"] if community.community_id == DEMO_CONTACT_COMMUNITY_ID else GUIDE
        path: list[tuple[Event, Status, int]] = []
        if target is Status.cancelled:
            path.append((ReferralCancelled(referral_id=rid), Status.cancelled, 5))
        elif target is Status.rejected:
            if self.rng.random() < 0.5:
                path.append((ReferralAccepted(referral_id=rid), Status.accepted, 3))
            reason = self.rng.choice(("full", "not_suitable", "no_contact", "other"))
            path.append((ReferralRejected(referral_id=rid, reason=reason), Status.rejected, 6))  # type: ignore[arg-type]
        elif target is not Status.requested:
            path.append((ReferralAccepted(referral_id=rid), Status.accepted, 4))
            if needs and companion and target is not Status.accepted:
                path.append(
                    (AccompanimentArranged(referral_id=rid, companion_id=companion), Status.accompaniment_arranged, 3)
                )
                if target is not Status.accompaniment_arranged:
                    path.append((CitizenAccompanied(referral_id=rid, companion_id=companion), Status.accompanied, 6))
            if target in (Status.welcomed, Status.participating, Status.ended):
                welcome = WelcomeConfirmed(referral_id=rid, community_id=community.community_id, confirmed_by=contact)
                path.append((welcome, Status.welcomed, 1))
            if target is Status.participating:
                path.append(
                    (
                        ParticipationConfirmed(referral_id=rid, weeks_after=4, still_participating=True),
                        Status.participating,
                        28,
                    )
                )
                path.append(
                    (
                        ParticipationConfirmed(referral_id=rid, weeks_after=12, still_participating=True),
                        Status.participating,
                        56,
                    )
                )
            if target is Status.ended:
                path.append(
                    (
                        ParticipationConfirmed(referral_id=rid, weeks_after=4, still_participating=False),
                        Status.ended,
                        28,
                    )
                )
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
        citizens: list[str] = []
        for number in range(1, 41):
            citizens.append(self.citizen(number, self.now - timedelta(days=rng.randint(182, 190), hours=number)))
        for number, target in enumerate(STATUS_MIX, start=1):
            ref = citizens[(number - 1) % len(citizens)]
            community = rng.choice(lasting)
            if demo_community is not None and number % 6 == 0:
                community = demo_community  # the demo contact's inbox has something in it
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
        # The former citizen: referred, welcomed, and later an ambassador herself.
        nadia_ref = citizens[-1]
        start = self.now - timedelta(days=140)
        self.referral(900, nadia_ref, rng.choice(lasting), "amb-yusuf", Status.participating, start, companions)
        self.activate(FORMER_CITIZEN, citizen_ref=nadia_ref)
        # Practice tracks: a dinner club first, then a lasting community.
        for number, ref in enumerate(citizens[:3], start=910):
            if not tracks:
                break
            track = rng.choice(tracks)
            start = self.now - timedelta(days=rng.randint(120, 160))
            self.referral(number, ref, track, "prof-socpsyk-ahmed", Status.welcomed, start, companions)
            onward = self.referral(
                number + 10, ref, rng.choice(lasting), "prof-socpsyk-ahmed", Status.welcomed,
                start + timedelta(days=45), companions,
            )  # fmt: skip
            if onward is Status.welcomed:
                bridge = CitizenBridged(
                    citizen_ref=ref, from_community_id=track.community_id, to_referral_id=f"r-demo-{number + 10:03d}"
                )
                self.record(bridge, start + timedelta(days=60))

    def outreach(self) -> None:
        for days_ago in range(170, 0, -14):
            actor = self.rng.choice([a for a in ACTORS if a.role != "guide"])
            kind = self.rng.choice(("postcards", "postcards", "info_meeting", "door_to_door"))
            count = self.rng.randint(10, 60) if kind == "postcards" else self.rng.randint(1, 15)
            event = OutreachRecorded(actor_id=actor.actor_id, kind=kind, count=count, area=actor.area)  # type: ignore[arg-type]
            self.record(event, self.now - timedelta(days=days_ago))


def seed(ctx: Context, now: datetime | None = None, seed_value: int = 20240901) -> dict[str, int]:
    """Seed the demo world in one transaction (all or nothing); returns events per type."""
    now = now or datetime.now(UTC)
    with ctx.runtime.db.transaction() as session:
        if not is_empty(session):
            return {}
        seeder = _Seeder(ctx, session, now, random.Random(seed_value))
        for actor in ACTORS:
            seeder.activate(actor)
        communities = list(
            session.scalars(select(Community).where(Community.archived.is_(False)).order_by(Community.community_id))
        )
        if communities:
            seeder.referrals(communities)
        else:
            log.warning("no communities known from the catalogue; demo referrals left out")
        seeder.outreach()
    ctx.runtime.committed()
    return seeder.counts
