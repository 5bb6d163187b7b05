"""Access, referral preconditions, readiness, the cascade and companion ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referrals import cascade, companions, domain, intake, visibility
from services.referrals.companions import CompanionCandidate, CompanionNeed
from services.referrals.domain import Action
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, Invalid

T0 = datetime(2024, 1, 10, tzinfo=UTC)


def who(role: Role, actor: str = "me", communities: tuple[str, ...] = ()) -> Principal:
    return Principal(actor_id=actor, role=role, communities=communities)


REF = {"referrer_id": "prof-a", "companion_id": "amb-b", "community_id": "strik"}


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (who(Role.guide), True),
        (who(Role.admin), True),
        (who(Role.professional, "prof-a"), True),
        (who(Role.professional, "prof-other"), False),
        (who(Role.ambassador, "amb-b"), True),  # the companion
        (who(Role.ambassador, "amb-c"), False),
        (who(Role.community_contact, "c", ("strik",)), True),
        (who(Role.community_contact, "c", ("kor",)), False),
        (who(Role.analyst), False),
        (who(Role.municipal_system), False),
    ],
)
def test_who_sees_a_referral(principal: Principal, visible: bool) -> None:
    assert visibility.can_see(principal, **REF) is visible
    if not visible:
        with pytest.raises(Forbidden):
            visibility.check_can_see(principal, **REF)


def test_a_professional_is_told_the_referral_is_someone_elses() -> None:
    with pytest.raises(Forbidden, match="made by someone else"):
        visibility.check_can_see(who(Role.professional, "prof-other"), **REF)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.community_contact, Action.welcome, True),
        (Role.community_contact, Action.cancel, False),
        (Role.professional, Action.accept, False),
        (Role.professional, Action.arrange_accompaniment, True),
        (Role.ambassador, Action.cancel, True),
        (Role.analyst, Action.confirm_participation, False),
    ],
)
def test_who_makes_which_move(role: Role, action: Action, allowed: bool) -> None:
    if allowed:
        domain.check_can_act(who(role), action)
    else:
        with pytest.raises(Forbidden, match="allowed roles"):
            domain.check_can_act(who(role), action)


def test_unknown_community_is_refused_with_a_reason() -> None:
    with pytest.raises(Invalid, match="not known to the referrals service"):
        intake.check_community_open("x", known=False, archived=False, capacity_status=None, override_full=False)


def test_archived_community_is_refused() -> None:
    with pytest.raises(Conflict, match="archived"):
        intake.check_community_open("x", known=True, archived=True, capacity_status="open", override_full=True)


def test_full_community_needs_override() -> None:
    with pytest.raises(Conflict, match="override_full"):
        intake.check_community_open("x", known=True, archived=False, capacity_status="full", override_full=False)
    intake.check_community_open("x", known=True, archived=False, capacity_status="full", override_full=True)
    intake.check_community_open("x", known=True, archived=False, capacity_status="waitlist", override_full=False)


def test_readiness_levels_are_ordered_and_a_repeat_is_no_change() -> None:
    assert [cascade.readiness_rank(x) for x in ("aware", "trained", "referring", "accompanying")] == [0, 1, 2, 3]
    assert cascade.readiness_changed(None, "aware")
    assert cascade.readiness_changed("referring", "trained")  # readiness may also fall
    assert not cascade.readiness_changed("trained", "trained")


def test_the_first_activation_counts() -> None:
    first = cascade.first_activation(None, "amb-1", "guide-anne", T0)
    later = cascade.first_activation(first, "amb-1", "guide-bo", T0 + timedelta(days=5))
    assert later == first
    earlier = cascade.first_activation(first, "amb-1", "guide-bo", T0 - timedelta(days=5))
    assert earlier.activated_by == "guide-bo"  # back-dated: it really was the first


def test_nobody_activates_themselves_or_closes_a_loop() -> None:
    with pytest.raises(Invalid, match="themselves"):
        cascade.first_activation(None, "amb-1", "amb-1", T0)
    parents: dict[str, str | None] = {"guide-anne": None, "prof-1": "guide-anne", "amb-1": "prof-1"}
    assert cascade.creates_cycle("guide-anne", "amb-1", parents.get)
    assert not cascade.creates_cycle("amb-2", "amb-1", parents.get)


def test_consent_is_required_for_attributes() -> None:
    cascade.check_consent(False, age_band=None, area=None, target_groups=[])
    cascade.check_consent(True, age_band="25-34", area="vestervang", target_groups=["unemployed"])
    with pytest.raises(Invalid, match="only with recorded consent") as caught:
        cascade.check_consent(False, age_band=None, area=None, target_groups=["disability"])
    assert caught.value.details == {"field": "target_groups"}


def test_sector_must_be_known() -> None:
    assert cascade.sector_code("job_centre") == "job_centre"
    assert cascade.sector_code(None) is None
    with pytest.raises(Invalid, match="use one of") as caught:
        cascade.sector_code("hairdresser")
    assert "job_centre" in caught.value.message and "library" in caught.value.message


def test_areas_and_target_groups_are_the_profiles_codes_and_labels_become_codes() -> None:
    assert cascade.area_code("Nørrevang") == "noerrevang"
    assert cascade.area_code("ringsted_midtby") == "ringsted_midtby"
    assert cascade.target_group_codes(["Ledige", "newcomer"]) == ["unemployed", "newcomer"]
    with pytest.raises(Invalid, match="use one of") as caught:
        cascade.area_code("Centrum")
    assert "ringsted_midtby" in caught.value.message and "vestervang" in caught.value.message
    with pytest.raises(Invalid, match="target_groups"):
        cascade.target_group_codes(["unemployment"])


def candidate(actor: str, area: str | None, langs: set[str], cats: set[str], load: int) -> CompanionCandidate:
    return CompanionCandidate(actor, area, frozenset(langs), frozenset(cats), load)


NEED = CompanionNeed(
    community_area="vestervang",
    community_categories=frozenset({"crafts", "social"}),
    citizen_area="noerrevang",
    citizen_languages=frozenset({"arabic", "danish"}),
)


def test_companions_rank_by_area_language_categories_and_load() -> None:
    ranked = companions.rank_companions(
        [
            candidate("far-away", "benloese", set(), set(), 0),
            candidate("neighbour", "vestervang", set(), set(), 0),
            candidate("speaks-arabic", "vestervang", {"Arabic"}, set(), 0),
            candidate("busy-expert", "vestervang", {"arabic"}, {"crafts", "social"}, 5),
            candidate("expert", "vestervang", {"arabic"}, {"crafts"}, 0),
        ],
        NEED,
    )
    assert [r.actor_id for r in ranked] == ["expert", "speaks-arabic", "neighbour", "busy-expert", "far-away"]
    top = ranked[0]
    assert top.score == 3 + 2 + 1
    assert "same area (Vestervang)" in top.reasons  # the Danish label, not the code
    assert any("shared language (arabic)" in reason for reason in top.reasons)


def test_citizen_area_counts_as_same_area() -> None:
    assert companions.score_companion(candidate("x", "noerrevang", set(), set(), 0), NEED).score == 3


def test_ties_go_to_the_least_busy_then_by_id() -> None:
    ranked = companions.rank_companions(
        [candidate("b", None, set(), set(), 0), candidate("a", None, set(), set(), 0)],
        CompanionNeed(community_area=None, community_categories=frozenset()),
    )
    assert [r.actor_id for r in ranked] == ["a", "b"]


def test_category_points_are_capped() -> None:
    many = CompanionNeed(community_area=None, community_categories=frozenset({"a", "b", "c", "d"}))
    assert companions.score_companion(candidate("x", None, set(), {"a", "b", "c", "d"}, 0), many).score == 2
