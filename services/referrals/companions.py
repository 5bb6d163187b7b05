"""Pure ranking of companions: who could go along with a citizen to a community, best match
first (same area as the citizen or the community, a shared language, communities of the same
kind accompanied to before, and not already busy this month)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.profile import profile


@dataclass(frozen=True)
class CompanionCandidate:
    actor_id: str
    area: str | None
    languages: frozenset[str]
    accompanied_categories: frozenset[str]  # categories of communities they accompanied to before
    accompaniments_this_month: int


@dataclass(frozen=True)
class CompanionNeed:
    community_area: str | None
    community_categories: frozenset[str]
    citizen_area: str | None = None
    citizen_languages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RankedCompanion:
    actor_id: str
    score: float
    reasons: tuple[str, ...]


AREA_WEIGHT = 3.0
LANGUAGE_WEIGHT = 2.0
CATEGORY_WEIGHT = 1.0
MAX_CATEGORY_POINTS = 2.0
LOAD_PENALTY = 1.0


def _norm(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values if v.strip())


def score_companion(candidate: CompanionCandidate, need: CompanionNeed) -> RankedCompanion:
    score = 0.0
    reasons: list[str] = []
    # Areas are the profile's codes (an older free-text value still matches itself, in any case).
    areas = {a.lower() for a in (need.citizen_area, need.community_area) if a}
    if candidate.area and candidate.area.lower() in areas:
        score += AREA_WEIGHT
        reasons.append(f"same area ({profile().area.label(candidate.area)})")
    shared_languages = _norm(candidate.languages) & _norm(need.citizen_languages)
    if shared_languages:
        score += LANGUAGE_WEIGHT
        reasons.append(f"shared language ({', '.join(sorted(shared_languages))})")
    shared_categories = _norm(candidate.accompanied_categories) & _norm(need.community_categories)
    if shared_categories:
        score += min(MAX_CATEGORY_POINTS, CATEGORY_WEIGHT * len(shared_categories))
        reasons.append(f"has accompanied to {', '.join(sorted(shared_categories))} before")
    if candidate.accompaniments_this_month:
        score -= LOAD_PENALTY * candidate.accompaniments_this_month
        reasons.append(f"{candidate.accompaniments_this_month} accompaniment(s) this month already")
    return RankedCompanion(candidate.actor_id, score, tuple(reasons))


def rank_companions(candidates: Sequence[CompanionCandidate], need: CompanionNeed) -> list[RankedCompanion]:
    """Best match first; ties go to whoever has accompanied least this month, then by id."""
    load = {c.actor_id: c.accompaniments_this_month for c in candidates}
    ranked = [score_companion(c, need) for c in candidates]
    return sorted(ranked, key=lambda r: (-r.score, load[r.actor_id], r.actor_id))
