"""Pure rules about the people in the cascade: referrers' readiness and the first-activation
rule, and what a referrer or citizen may be described with (the municipality profile's
vocabulary, and a citizen's attributes only with consent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.errors import Invalid
from shared.profile import profile

# ---------------------------------------------------------------------- readiness and the cascade


class Readiness(StrEnum):
    aware = "aware"
    trained = "trained"
    referring = "referring"
    accompanying = "accompanying"


READINESS_ORDER = list(Readiness)


def readiness_rank(level: Readiness | str) -> int:
    return READINESS_ORDER.index(Readiness(level))


def readiness_changed(current: Readiness | str | None, recorded: Readiness | str) -> bool:
    """Whether recording `recorded` says something new (re-recording the same level does not).

    Readiness may also go down (a professional who has not referred for a year is no longer
    "referring"), so any different level is a change.
    """
    return current is None or Readiness(current) is not Readiness(recorded)


def readiness_reached(current: Readiness | str | None, reached: Readiness | str) -> bool:
    """Whether doing something (a training, a first referral, a first accompaniment) moves a
    referrer up to `reached`: only from below, never down (aware < trained < referring <
    accompanying), and doing it again says nothing new."""
    return current is None or readiness_rank(reached) > readiness_rank(current)


@dataclass(frozen=True)
class Activation:
    activated_by: str | None
    activated_at: datetime


def first_activation(existing: Activation | None, actor_id: str, activated_by: str | None, at: datetime) -> Activation:
    """The cascade edge that counts: the first activation (earliest in time) wins.

    A later activation of the same actor leaves the edge alone; a back-dated one that
    happened earlier replaces it, because it *was* the first.
    """
    if activated_by == actor_id:
        raise Invalid("activated_by: a referrer cannot activate themselves", field="activated_by")
    candidate = Activation(activated_by=activated_by, activated_at=at)
    if existing is None or at < existing.activated_at:
        return candidate
    return existing


def creates_cycle(actor_id: str, activated_by: str | None, parent_of: Callable[[str], str | None]) -> bool:
    """Whether making `activated_by` the activator of `actor_id` closes a loop in the cascade."""
    seen: set[str] = set()
    current = activated_by
    while current is not None and current not in seen:
        if current == actor_id:
            return True
        seen.add(current)
        current = parent_of(current)
    return False


# ---------------------------------------------------------------------- vocabulary and consent


# A person may type a code or a Danish label; an event must carry the code (`exact`), since it
# travels on to other services as it was posted.


def sector_code(sector: str | None, *, exact: bool = False) -> str | None:
    """The profile's code for a professional's sector."""
    return None if sector is None else profile().sector.check(sector, "sector", exact=exact)


def area_code(area: str | None, field: str = "area", *, exact: bool = False) -> str | None:
    """The profile's code for an area; 422 naming the codes if unknown."""
    return None if area is None else profile().area.check(area, field, exact=exact)


def target_group_codes(groups: Sequence[str], *, exact: bool = False) -> list[str]:
    return profile().target_group.check_all(groups, "target_groups", exact=exact)


def check_consent(has_consent: bool, *, age_band: str | None, area: str | None, target_groups: Sequence[str]) -> None:
    given = [
        name for name, value in (("age_band", age_band), ("area", area), ("target_groups", target_groups)) if value
    ]
    if given and not has_consent:
        raise Invalid(
            f"{given[0]}: age band, area and target groups are stored only with recorded consent; "
            "add consent {purpose, date} or leave them out",
            field=given[0],
        )
