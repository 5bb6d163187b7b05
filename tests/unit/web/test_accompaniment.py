"""Mine følgeopgaver's own rules: which section a request goes in and in what order, who takes
tasks themselves, and the Danish words for a refused move (the race lost above all)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.web.domain import WebUser
from services.web.service.accompaniment import (
    NO_LONGER_OPEN,
    TAKEN_BY_ANOTHER,
    AccompanimentRequest,
    refusal_words,
    sections,
    takes_tasks,
)
from services.web.service.backends import BackendError
from shared.principal import Role

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def request(
    referral_id: str, state: str, *, days_ago: int = 0, visit_in: int | None = None, status: str = "requested"
) -> AccompanimentRequest:
    return AccompanimentRequest.model_validate(
        {
            "referral_id": referral_id,
            "community_id": "c1",
            "created_at": NOW - timedelta(days=days_ago),
            "visit_at": NOW + timedelta(days=visit_in) if visit_in is not None else None,
            "status": status,
            "state": state,
            "unknown_field": "ignored",
        }
    )


def ids(items: list[AccompanimentRequest]) -> list[str]:
    return [item.referral_id for item in items]


def test_sections_and_their_order() -> None:
    found = [
        request("open-new", "open", days_ago=1),
        request("open-old", "open", days_ago=5),
        request("open-visit", "open", days_ago=0, visit_in=2),
        request("mine-done", "mine", status="accompanied", visit_in=1),
        request("mine-todo-later", "mine", status="accompaniment_arranged", visit_in=5),
        request("mine-todo-soon", "mine", status="accompaniment_arranged", visit_in=1),
        request("taken-old", "taken", days_ago=9),
        request("taken-new", "taken", days_ago=2),
    ]
    open_, mine, taken = sections(found)
    # a proposed visit first (it is soonest), then whoever has waited longest
    assert ids(open_) == ["open-visit", "open-old", "open-new"]
    # what I still have to do first, soonest visit first; the ones done last
    assert ids(mine) == ["mine-todo-soon", "mine-todo-later", "mine-done"]
    assert [item.awaits_accompaniment for item in mine] == [True, True, False]
    assert ids(taken) == ["taken-new", "taken-old"]


def test_who_takes_tasks() -> None:
    assert takes_tasks(WebUser("amb-lars", Role.ambassador))
    assert takes_tasks(WebUser("prof-x", Role.professional))
    assert not takes_tasks(WebUser("guide-anne", Role.guide))  # guides look, and arrange from the referral


def test_refusals_in_danish() -> None:
    taken = BackendError(409, "", detail="accompaniment is already taken by another companion")
    assert refusal_words("arrange_accompaniment", taken) == TAKEN_BY_ANOTHER
    assert "En anden ambassadør nåede at tage opgaven" in TAKEN_BY_ANOTHER
    assert refusal_words("arrange_accompaniment", BackendError(403, "")) == NO_LONGER_OPEN
    assert refusal_words("decline_accompaniment", BackendError(404, "")) == NO_LONGER_OPEN
    assert refusal_words("accompany", BackendError(409, "")) is not None
    assert refusal_words("accompany", BackendError(503, "")) is None  # the 503 page, not an explanation
