"""The one-click links' pure logic: which verbs exist, what each says, which call its button
makes (with the page's form), and when a link has nothing more to do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.web.service.answers import Referral
from services.web.service.links import Call, already_done, link_user, offers_loneliness, plan, valid, words
from shared.links import Link, community_link
from shared.principal import Role

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def contact(action: str, subject: str = "r-1") -> Link:
    return community_link(action, subject, "c-1", NOW)


def referral(status: str, allowed: list[str], participation: dict[str, bool] | None = None) -> Referral:
    return Referral(
        referral_id="r-1",
        citizen_ref="c-x",
        community_id="c-1",
        referrer_id="prof-mette",
        status=status,
        allowed_actions=allowed,
        participation=participation or {},
        created_at=NOW,
        updated_at=NOW,
    )


CONTRACT = (
    *("accept", "propose_visit", "welcome", "no_show", "reject:full", "reject:not_suitable", "reject:no_contact"),
    *("capacity:open", "capacity:few", "capacity:full", "pause", "participation:4:yes", "participation:12:no"),
)


@pytest.mark.parametrize("action", CONTRACT)
def test_every_verb_of_the_contract_is_valid_and_has_words(action: str) -> None:
    link = contact(action)
    assert valid(link)
    said = words(link)
    assert said.title and said.button and said.done and "{community}" in said.explain + said.done + said.title


@pytest.mark.parametrize(
    "action", ["delete", "reject:other", "reject", "capacity:huge", "participation:8:yes", "pause:1", "welcome:x"]
)
def test_unknown_verbs_and_arguments_are_not_valid(action: str) -> None:
    assert not valid(contact(action))


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("accept", Call("referrals", "POST", "/v1/referrals/r-1/accept", {})),
        ("welcome", Call("referrals", "POST", "/v1/referrals/r-1/welcome", {})),
        ("no_show", Call("referrals", "POST", "/v1/referrals/r-1/no_show", {})),
        ("reject:full", Call("referrals", "POST", "/v1/referrals/r-1/reject", {"reason": "full"})),
        (
            "participation:12:yes",
            Call(
                "referrals",
                "POST",
                "/v1/referrals/r-1/confirm_participation",
                {"weeks_after": 12, "still_participating": True},
            ),
        ),
    ],
)
def test_a_referral_verb_is_one_move(action: str, call: Call) -> None:
    assert plan(contact(action), {}, NOW) == (call, [])


def test_a_proposed_visit_needs_a_date_and_time_in_copenhagen() -> None:
    link = contact("propose_visit")
    call, errors = plan(link, {"visit_at": "2026-12-08", "visit_time": "17:00"}, NOW)
    assert errors == [] and call == Call(
        "referrals", "POST", "/v1/referrals/r-1/propose_visit", {"visit_at": "2026-12-08T17:00:00+01:00"}
    )
    call, errors = plan(link, {"visit_at": "", "visit_time": "17:00"}, NOW)
    assert call is None and [field for field, _ in errors] == ["visit_at"]


def test_capacity_keeps_the_total_and_pause_asks_for_weeks() -> None:
    call, _ = plan(contact("capacity:full", "c-1"), {}, NOW, (12, 8))
    assert call == Call(
        "catalogue", "PUT", "/v1/communities/c-1/capacity", {"total": 12, "available": 0, "status": "full"}
    )
    assert plan(contact("pause", "c-1"), {"weeks": "3"}, NOW) == (
        None,
        [("weeks", "Vælg hvor længe mails skal holde pause")],
    )
    call, _ = plan(contact("pause", "c-1"), {"weeks": "1"}, NOW)
    assert call == Call("notifications", "PUT", "/v1/communities/c-1/pause", {"until": "2026-12-09T07:00:00+01:00"})


def test_a_link_with_nothing_left_to_do_is_already_done() -> None:
    assert not already_done(contact("welcome"), referral("accepted", ["welcome", "no_show"]))
    assert already_done(contact("welcome"), referral("welcomed", ["confirm_participation"]))
    assert already_done(contact("accept"), referral("cancelled", []))
    follow_up = Link("participation:4:yes", "r-1", "prof-mette", Role.professional, (), NOW)
    assert not already_done(follow_up, referral("welcomed", ["confirm_participation"]))
    assert already_done(follow_up, referral("participating", ["confirm_participation"], {"4": True}))


def test_the_link_holder_is_exactly_the_person_it_was_made_for() -> None:
    user = link_user(contact("welcome"))
    assert (user.actor_id, user.role, user.communities) == ("community:c-1", Role.community_contact, ("c-1",))
    assert user.principal == contact("welcome").principal


def test_the_loneliness_questions_follow_only_a_referrers_yes_at_12_weeks() -> None:
    welcomed = referral("welcomed", ["confirm_participation"])
    referrer = Link("participation:12:yes", "r-1", "prof-mette", Role.professional, (), NOW)
    assert offers_loneliness(referrer, welcomed)
    assert not offers_loneliness(referrer, welcomed.model_copy(update={"loneliness": ["referral", "week_12"]}))
    assert not offers_loneliness(Link("participation:4:yes", "r-1", "prof-mette", Role.professional, (), NOW), welcomed)
    assert not offers_loneliness(Link("participation:12:no", "r-1", "prof-mette", Role.professional, (), NOW), welcomed)
    assert not offers_loneliness(contact("participation:12:yes"), welcomed)  # a community contact does not ask
