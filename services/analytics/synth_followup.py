"""The synthetic cascade's loops after the referral (`synth.py` calls this at its end):
readiness and training of referrers, loneliness scores at the referral and at week 12, and
citizens who did not come.

A random generator of its own, so the events `synth.generate` made before issue 12 stay the
same, seed for seed (the benchmarks compare against them).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.events import Event
from shared.events import referrals as ref
from shared.profile import profile

DAY_US = 86_400_000_000
Generated = tuple[str, int, type[Event], dict[str, Any]]  # the same as synth.Generated
Actor = tuple[str, str, int]  # actor id, role, activation time (µs)
Referred = tuple[str, int, int | None]  # referral id, created, welcomed (µs) or None while open


def _day(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).date().isoformat()


def _score(rng: random.Random, lonely: float) -> int:
    """Three answers of 1..3, each 'often' more likely the lonelier the citizen."""
    return sum(rng.choices((1, 2, 3), weights=(1 - lonely, 1, 0.2 + lonely))[0] for _ in range(3))


def generate(seed: int, actors: list[Actor], referred: list[Referred]) -> Iterator[Generated]:
    rng = random.Random(f"followup-{seed}")
    topics = profile().training_topic.codes or ("introduction",)

    def eid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    for actor_id, role, since in actors:
        if role == "guide":
            continue
        if rng.random() < 0.8:
            yield (
                eid(),
                since + int(rng.uniform(0, 14) * DAY_US),
                ref.ReadinessRecorded,
                {"actor_id": actor_id, "level": "aware"},
            )
        if role == "professional" and rng.random() < 0.55:
            trained = since + int(rng.uniform(14, 60) * DAY_US)
            fields = {"actor_id": actor_id, "trained_on": _day(trained), "topic": rng.choice(topics)}
            yield eid(), trained, ref.TrainingRecorded, fields
            yield eid(), trained, ref.ReadinessRecorded, {"actor_id": actor_id, "level": "trained"}
    for referral_id, created, welcomed in referred:
        if welcomed is None and rng.random() < 0.2:
            reporter = {"referral_id": referral_id, "reported_by": "syn-contact"}
            yield eid(), created + int(rng.uniform(7, 21) * DAY_US), ref.NoShowReported, reporter
        if rng.random() >= 0.3:  # the scale is optional: asked at about a third of referrals
            continue
        lonely = rng.random()
        before = _score(rng, lonely)
        yield (
            eid(),
            created + 3_600_000_000,
            ref.LonelinessMeasured,
            {"referral_id": referral_id, "moment": "referral", "score": before},
        )
        if welcomed is not None and rng.random() < 0.6:
            after = _score(rng, max(0.0, lonely - rng.uniform(0, 0.5)))
            measured = welcomed + 84 * DAY_US
            yield (
                eid(),
                measured,
                ref.LonelinessMeasured,
                {"referral_id": referral_id, "moment": "week_12", "score": after},
            )
