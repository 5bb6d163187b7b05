"""A synthetic, realistic cascade for load tests and benchmarks (fictional, in the
municipality of the profile in force: its areas, sectors, target groups and categories).

Guides activate professionals and ambassadors, who activate more of both and refer citizens;
some welcomed citizens become ambassadors. Referrals are accepted, accompanied, welcomed,
followed up, rejected or cancelled; there are target groups, practice tracks with bridges,
capacity, needs, outreach, and (`synth_followup.py`) readiness, loneliness and no-shows.
One generator feeds both paths, `as_cloudevents` (the streams) and `as_changes` (straight into
the projections), so the benchmark and a rebuild see the same events.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.analytics import synth_followup
from services.analytics.domain import to_us
from services.analytics.projection import Changes
from shared.events import Event
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.profile import profile

# The vocabulary of the municipality profile in force: synthetic events use its codes, as the
# services' own events do, so the dashboard shows them with the profile's Danish labels.
AREAS = profile().area.codes
SECTORS = profile().sector.codes
TARGET_GROUPS = profile().target_group.codes
CATEGORIES = profile().category.codes
# What citizens miss most often: a third of the categories, in the profile's order.
NEED_CATEGORIES = CATEGORIES[::3]
AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
REASONS = ("full", "not_suitable", "no_contact", "other")
OUTREACH = ("postcards", "website_visit", "info_meeting", "door_to_door")
START = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
DAY_US = 86_400_000_000
SPAN_DAYS = 540

Generated = tuple[str, int, type[Event], dict[str, Any]]  # event id, time (µs), model, fields


@dataclass
class _Actor:
    actor_id: str
    role: str
    since: int


def generate(referrals: int, seed: int = 1) -> Iterator[Generated]:
    rng = random.Random(seed)
    start = to_us(START)

    def eid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def when(day: float) -> int:
        return start + int(day * DAY_US)

    # Communities (10 % practice tracks) with a capacity history.
    n_communities = max(10, referrals // 500)
    communities = []
    for i in range(n_communities):
        cid = f"syn-com-{i}"
        kind = "practice_track" if i % 10 == 0 else "permanent"
        communities.append(cid)
        yield (
            eid(),
            start - DAY_US,
            cat.CommunityRegistered,
            {
                "community_id": cid,
                "organization_id": f"syn-org-{i % 40}",
                "name": f"Fællesskab {i}",
                "categories": [CATEGORIES[i % len(CATEGORIES)]],
                "area": AREAS[i % len(AREAS)],
                "kind": kind,
                "accepts_special_needs": i % 3 == 0,
            },
        )
        for _ in range(rng.randint(0, 3)):
            status = rng.choice(("open", "waitlist", "full"))
            yield (
                eid(),
                when(rng.uniform(0, SPAN_DAYS)),
                cat.CommunityCapacityChanged,
                {"community_id": cid, "available": 0 if status == "full" else 5, "total": 20, "status": status},
            )
    tracks = [community for i, community in enumerate(communities) if i % 10 == 0]

    # The cascade's actors, activated over the first part of the span.
    actors: list[_Actor] = []
    for guide in range(3):
        actors.append(_Actor(f"syn-guide-{guide}", "guide", start))
        yield (
            eid(),
            start,
            ref.ReferrerActivated,
            {"actor_id": f"syn-guide-{guide}", "role": "guide", "area": AREAS[guide]},
        )
    n_actors = max(10, referrals // 100)
    for i in range(n_actors):
        role = "professional" if rng.random() < 0.6 else "ambassador"
        day = rng.uniform(0, SPAN_DAYS * 0.8) * (i / n_actors) ** 0.5 + 1
        since = when(day)
        activator = (
            None
            if rng.random() < 0.03
            else rng.choice([a for a in actors[-200:] if a.since <= since] or actors[:3]).actor_id
        )
        actor_id = f"syn-{role[:4]}-{i}"
        actors.append(_Actor(actor_id, role, since))
        yield (
            eid(),
            since,
            ref.ReferrerActivated,
            {
                "actor_id": actor_id,
                "role": role,
                "sector": rng.choice(SECTORS) if role == "professional" else None,
                "area": rng.choice(AREAS),
                "activated_by": activator,
                "offers_accompaniment": rng.random() < 0.3,
            },
        )

    # Citizens and their referrals; later referrals come more often from later generations.
    n_citizens = max(1, int(referrals * 0.7))
    citizen_day = [0.0] * n_citizens
    for citizen in range(n_citizens):
        citizen_day[citizen] = SPAN_DAYS * rng.random() ** 0.7
        groups = rng.sample(TARGET_GROUPS, k=rng.choice((0, 0, 0, 1, 1, 2)))
        yield (
            eid(),
            when(citizen_day[citizen]),
            ref.CitizenRegistered,
            {
                "citizen_ref": f"syn-cit-{citizen}",
                "age_band": rng.choice(AGE_BANDS),
                "area": rng.choice(AREAS),
                "target_groups": groups,
            },
        )
    converted, referred = 0, []
    for number in range(referrals):
        citizen = number if number < n_citizens else rng.randrange(n_citizens)
        day = citizen_day[citizen] + (0 if number < n_citizens else rng.uniform(0, 60))
        created = when(day)
        pool_end = max(3, int(len(actors) * min(1.0, 0.2 + day / SPAN_DAYS)))
        referrer = actors[rng.randrange(pool_end)] if rng.random() > 0.15 else actors[rng.randrange(3)]
        community = rng.choice(tracks) if rng.random() < 0.1 else rng.choice(communities)
        rid = f"syn-ref-{number}"
        needs = rng.random() < 0.2
        yield (
            eid(),
            created,
            ref.ReferralCreated,
            {
                "referral_id": rid,
                "citizen_ref": f"syn-cit-{citizen}",
                "community_id": community,
                "referrer_id": referrer.actor_id,
                "needs_accompaniment": needs,
                "channel": rng.choice(("in_person", "postcard", "website", "phone")),
            },
        )
        fate = rng.random()
        if fate < 0.12:
            yield (
                eid(),
                created + int(rng.uniform(0.5, 5) * DAY_US),
                ref.ReferralRejected,
                {"referral_id": rid, "reason": rng.choice(REASONS)},
            )
            continue
        if fate < 0.17:
            yield eid(), created + int(rng.uniform(1, 20) * DAY_US), ref.ReferralCancelled, {"referral_id": rid}
            continue
        if fate < 0.9:
            yield eid(), created + int(rng.uniform(0.1, 4) * DAY_US), ref.ReferralAccepted, {"referral_id": rid}
        if needs and rng.random() < 0.7:
            companion = rng.choice(actors).actor_id
            yield (
                eid(),
                created + int(rng.uniform(1, 6) * DAY_US),
                ref.AccompanimentArranged,
                {"referral_id": rid, "companion_id": companion},
            )
            if rng.random() < 0.8:
                yield (
                    eid(),
                    created + int(rng.uniform(6, 10) * DAY_US),
                    ref.CitizenAccompanied,
                    {"referral_id": rid, "companion_id": companion},
                )
        welcomed = created + int(rng.lognormvariate(2.0, 0.6) * DAY_US) if fate < 0.7 else None
        referred.append((rid, created, welcomed))
        if welcomed is not None:
            yield (
                eid(),
                welcomed,
                ref.WelcomeConfirmed,
                {"referral_id": rid, "community_id": community, "confirmed_by": f"syn-contact-{community}"},
            )
            for weeks, chance in ((4, 0.75), (12, 0.6)):
                yield (
                    eid(),
                    welcomed + weeks * 7 * DAY_US,
                    ref.ParticipationConfirmed,
                    {"referral_id": rid, "weeks_after": weeks, "still_participating": rng.random() < chance},
                )
            if community in tracks and rng.random() < 0.4:
                yield (
                    eid(),
                    welcomed + 30 * DAY_US,
                    ref.CitizenBridged,
                    {"citizen_ref": f"syn-cit-{citizen}", "from_community_id": community, "to_referral_id": rid},
                )
            if rng.random() < 0.02:
                converted += 1
                actor_id = f"syn-amb-cit-{converted}"
                since = welcomed + 60 * DAY_US
                actors.append(_Actor(actor_id, "ambassador", since))
                yield (
                    eid(),
                    since,
                    ref.ReferrerActivated,
                    {
                        "actor_id": actor_id,
                        "role": "ambassador",
                        "area": rng.choice(AREAS),
                        "citizen_ref": f"syn-cit-{citizen}",
                    },
                )
    for i in range(max(5, referrals // 50)):
        yield (
            eid(),
            when(rng.uniform(0, SPAN_DAYS)),
            cat.NeedRecorded,
            {
                "need_id": f"syn-need-{i}",
                "area": rng.choice(AREAS),
                "category": rng.choice(NEED_CATEGORIES),
                "description": "Ønske registreret ved dialog",
                "recorded_by": "syn-guide-0",
            },
        )
    for _ in range(max(5, referrals // 20)):
        yield (
            eid(),
            when(rng.uniform(0, SPAN_DAYS)),
            ref.OutreachRecorded,
            {
                "actor_id": rng.choice(actors).actor_id,
                "kind": rng.choice(OUTREACH),
                "count": rng.randint(1, 50),
                "area": rng.choice(AREAS),
            },
        )
    for _ in range(max(1, referrals // 2000)):
        yield (
            eid(),
            when(rng.uniform(0, SPAN_DAYS)),
            ref.CitizenErased,
            {"citizen_ref": f"syn-cit-{rng.randrange(n_citizens)}"},
        )
    yield from synth_followup.generate(seed, [(a.actor_id, a.role, a.since) for a in actors], referred)


def _rfc3339(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def as_cloudevent(item: Generated, source: str = "/synth/analytics") -> bytes:
    event_id, time_us, model, fields = item
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": model.event_type(),
            "time": _rfc3339(time_us),
            "subject": str(fields[model.aggregate]),
            "datacontenttype": "application/json",
            "data": fields,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def add_to(changes: Changes, item: Generated) -> None:
    """The direct path: our own generator's fields are valid, so skip re-validation."""
    event_id, time_us, model, fields = item
    changes.add(event_id, time_us, model.model_construct(**fields))
