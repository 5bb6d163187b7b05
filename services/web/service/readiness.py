"""Parathed: the referrers with their readiness level, trainings and referrals (the referrals
service's `/v1/referrers`), recording a training, and the worklist's list of referrers who
were trained but have not referred yet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import Field, TypeAdapter

from services.web.domain import WebUser
from services.web.preferences import day
from services.web.service import Pages
from services.web.service.answers import Answer, Referrer
from shared.clock import COPENHAGEN
from shared.profile import profile

# The levels in their order (a referrer never moves down), in the words guides use.
READINESS_WORDS = {
    "aware": "Kender programmet",
    "trained": "Trænet",
    "referring": "Henviser",
    "accompanying": "Følger med",
}
NO_LEVEL = "Ikke registreret"
ROLE_WORDS = {"guide": "Fællesskabsguide", "professional": "Fagperson", "ambassador": "Ambassadør"}
EARLIEST_TRAINING = date(2000, 1, 1)


class Training(Answer):
    trained_on: date
    topic: str
    topic_label: str | None = None


class ReadyReferrer(Referrer):
    sector_label: str | None = None
    organization: str | None = None
    readiness: str | None = None
    trainings: list[Training] = Field(default_factory=list)
    referral_count: int = 0
    last_referral_at: datetime | None = None

    @property
    def readiness_word(self) -> str:
        return READINESS_WORDS.get(self.readiness or "", NO_LEVEL)

    @property
    def role_word(self) -> str:
        return ROLE_WORDS.get(self.role, self.role)

    @property
    def trainings_newest_first(self) -> list[Training]:
        return sorted(self.trainings, key=lambda training: training.trained_on, reverse=True)


READY_REFERRERS = TypeAdapter(list[ReadyReferrer])


@dataclass(frozen=True)
class Readiness:
    referrers: list[ReadyReferrer]  # the ones the filter shows
    everyone: list[ReadyReferrer]  # for the training form's choice
    counts: dict[str, int]  # level (or "" for none) → referrers at it
    level: str
    role: str


def _by_name(referrers: list[ReadyReferrer]) -> list[ReadyReferrer]:
    return sorted(referrers, key=lambda referrer: (referrer.display_name.casefold(), referrer.actor_id))


def readiness(pages: Pages, user: WebUser, level: str, role: str) -> Readiness:
    """Every referrer (one call), and those at `level` with `role` ("" for any)."""
    everyone = _by_name(pages.referrals.get_list(user, "/v1/referrers", READY_REFERRERS))
    level = level if level in READINESS_WORDS or level == "ingen" else ""
    role = role if role in ROLE_WORDS else ""
    shown = [
        referrer
        for referrer in everyone
        if (not level or (referrer.readiness or "ingen") == level) and (not role or referrer.role == role)
    ]
    counts = Counter(referrer.readiness or "" for referrer in everyone)
    return Readiness(shown, everyone, dict(counts), level, role)


def trained_not_referring(pages: Pages, user: WebUser) -> list[ReadyReferrer]:
    params: dict[str, str | int | bool] = {"readiness": "trained", "has_referred": False}
    return _by_name(pages.referrals.get_list(user, "/v1/referrers", READY_REFERRERS, params=params))


def read_training(
    form: Mapping[str, str], known: set[str], now: datetime
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The training form's referrer (one of `known`), date and topic, or the fields to fix in
    Danish."""
    errors = []
    referrer = form.get("referrer", "").strip()
    if referrer not in known:
        errors.append(("referrer", "Vælg hvem der er blevet trænet"))
    trained_on = day(form.get("trained_on", ""))
    if trained_on is None:
        errors.append(("trained_on", "Skriv datoen for træningen, fx 24.11.2026"))
    elif trained_on > now.astimezone(COPENHAGEN).date():
        errors.append(("trained_on", "Træningen skal have fundet sted: skriv en dato til og med i dag"))
    elif trained_on < EARLIEST_TRAINING:
        errors.append(("trained_on", "Tjek årstallet for træningen"))
    topic = form.get("topic", "")
    if topic not in profile().training_topic.codes:
        errors.append(("topic", "Vælg et emne fra listen"))
    if errors or trained_on is None:
        return {}, errors
    return {"referrer": referrer, "trained_on": trained_on.isoformat(), "topic": topic}, []


def record_training(pages: Pages, user: WebUser, referrer: str, trained_on: str, topic: str) -> ReadyReferrer:
    body = {"trained_on": trained_on, "topic": topic}
    return pages.referrals.post(user, f"/v1/referrers/{referrer}/training", ReadyReferrer, json=body)
