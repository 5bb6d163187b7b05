"""The cast and shape of the demo story: its people (from `data/demo.json`, in profile areas),
the statuses its referrals reach, and how often a citizen crosses areas."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from services.referrals.domain import Status
from shared.clock import local
from shared.demo import DEMO_ACTORS
from shared.events import Event
from shared.events import referrals as facts
from shared.profile import profile

STORY = json.loads((Path(__file__).parent / "data" / "demo.json").read_text(encoding="utf-8"))
FIRST, LAST = tuple(STORY["first_names"]), tuple(STORY["last_names"])
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
# Most citizens are referred to a community in their own area; the rest cross areas.
SAME_AREA = 0.78
CHANNELS: tuple[facts.ReferralChannel, ...] = ("in_person", "in_person", "postcard", "phone", "website")
REASONS: tuple[facts.RejectionReason, ...] = ("full", "not_suitable", "no_contact", "other")
OUTREACH: tuple[facts.OutreachKind, ...] = ("postcards", "postcards", "info_meeting", "door_to_door")
LEVELS: tuple[facts.ReadinessLevel, ...] = ("aware", "trained", "referring", "accompanying")


def readiness_step(actor_id: str, level: facts.ReadinessLevel, at: datetime) -> Event:
    """How a demo referrer reaches `level`: "trained" by a training (which moves readiness by
    itself), the rest recorded by a guide."""
    topics = [t.code for t in profile().training_topics]
    if level == "trained" and topics:
        topic = topics[len(actor_id) % len(topics)]  # varied, without drawing from the story's random stream
        return facts.TrainingRecorded(actor_id=actor_id, trained_on=local(at).date(), topic=topic)
    return facts.ReadinessRecorded(actor_id=actor_id, level=level)


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str
    role: facts.Role
    name: str
    activated_by: str | None
    days_ago: int
    area: str
    sector: str | None = None
    organization: str | None = None
    accompanies: bool = False
    languages: tuple[str, ...] = ("da",)

    @field_validator("actor_id", "activated_by")
    @classmethod
    def _well_known(cls, value: str | None) -> str | None:
        """`@guide` and the like are the well-known demo identities (shared/demo.py)."""
        return DEMO_ACTORS[value[1:]] if value and value.startswith("@") else value

    @field_validator("organization")
    @classmethod
    def _municipal(cls, value: str | None) -> str | None:
        return value.format(city=profile().city, programme=profile().programme) if value else value


ACTORS = tuple(Actor.model_validate(a) for a in STORY["actors"])
FORMER_CITIZEN = Actor.model_validate(STORY["former_citizen"])  # referred, welcomed, and later an ambassador herself
GUIDE = DEMO_ACTORS["guide"]

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
    + [Status.no_show] * 2
)
