"""Who sees the note and the shared contact, and accompaniment requests: open, mine, taken,
who may take one (first wins) and who may say no."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.referrals import access, domain
from services.referrals.access import Request, RequestState, Volunteer
from services.referrals.domain import Action, Status
from shared.errors import Conflict, Forbidden
from shared.principal import Principal, Role

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def who(role: Role, actor: str = "me", communities: tuple[str, ...] = ()) -> Principal:
    return Principal(actor_id=actor, role=role, communities=communities)


REFERRAL = {"referrer_id": "prof-a", "companion_id": "amb-b", "community_id": "strik"}


@pytest.mark.parametrize(
    ("principal", "note", "shared_note", "contact"),
    [
        (who(Role.guide), True, True, True),
        (who(Role.admin), True, True, True),
        (who(Role.professional, "prof-a"), True, True, True),  # the referrer
        (who(Role.ambassador, "amb-b"), False, True, True),  # the arranged companion
        (who(Role.ambassador, "amb-c"), False, False, False),  # a candidate or a stranger
        (who(Role.community_contact, "c", ("strik",)), False, True, True),
        (who(Role.community_contact, "c", ("kor",)), False, False, False),
        (who(Role.analyst), False, False, False),
        (who(Role.dpo), False, False, False),
    ],
)
def test_who_sees_the_note_and_the_shared_contact(
    principal: Principal, note: bool, shared_note: bool, contact: bool
) -> None:
    assert access.sees_note(principal, **REFERRAL, share_note=False) is note
    assert access.sees_note(principal, **REFERRAL, share_note=True) is shared_note
    assert access.sees_shared_contact(principal, **REFERRAL) is contact


def test_a_shared_note_is_not_for_a_companion_before_one_is_arranged() -> None:
    waiting = {**REFERRAL, "companion_id": None}
    assert not access.sees_note(who(Role.ambassador, "amb-b"), **waiting, share_note=True)
    assert access.sees_note(who(Role.professional, "prof-a"), **waiting, share_note=False)


def test_the_referrer_and_the_staff_measure_loneliness() -> None:
    for principal in (who(Role.professional, "prof-a"), who(Role.guide), who(Role.admin)):
        access.check_can_measure(principal, referrer_id="prof-a")
    for principal in (who(Role.ambassador, "amb-b"), who(Role.community_contact, "c", ("strik",))):
        with pytest.raises(Forbidden, match="recorded by the referrer"):
            access.check_can_measure(principal, referrer_id="prof-a")


def test_no_companion_yet_means_nobody_sees_it_as_companion() -> None:
    amb_b = who(Role.ambassador, "amb-b")
    assert not access.sees_shared_contact(amb_b, referrer_id="prof-a", companion_id=None, community_id="strik")


@pytest.mark.parametrize(
    ("name", "first"), [("Birthe Testesen", "Birthe"), ("  Ali  ", "Ali"), ("Anne Marie Hansen", "Anne"), (None, "")]
)
def test_the_first_name_is_the_first_word(name: str | None, first: str) -> None:
    assert access.first_name(name) == first


LARS = Volunteer("amb-lars", "vestervang", offers_accompaniment=True)
ME = who(Role.ambassador, "amb-lars")
OPEN = Request(referrer_id="prof-a", status=Status.requested, needs_accompaniment=True, community_area="vestervang")


def state(request: Request, volunteer: Volunteer | None = LARS, principal: Principal = ME) -> RequestState | None:
    return access.request_state(principal, volunteer, request, NOW)


def test_an_open_request_in_my_area() -> None:
    assert state(OPEN) is RequestState.open
    assert state(replace(OPEN, status=Status.accepted)) is RequestState.open
    assert access.is_candidate(ME, LARS, OPEN, NOW)


@pytest.mark.parametrize(
    ("request_", "volunteer"),
    [
        (replace(OPEN, community_area="ringsted_midtby"), LARS),  # another area
        (replace(OPEN, needs_accompaniment=False), LARS),  # nobody asked for a companion
        (replace(OPEN, referrer_id="amb-lars"), LARS),  # my own referral: I arrange it as the referrer
        (replace(OPEN, declined=True), LARS),  # I said no
        (OPEN, Volunteer("amb-lars", "vestervang", offers_accompaniment=False)),
        (OPEN, None),  # not in the directory
        (replace(OPEN, status=Status.rejected), LARS),
    ],
)
def test_not_open_for_me(request_: Request, volunteer: Volunteer | None) -> None:
    assert state(request_, volunteer) is None
    assert not access.is_candidate(ME, volunteer, request_, NOW)


def test_a_volunteer_without_an_area_is_offered_every_area() -> None:
    anywhere = Volunteer("amb-lars", None, offers_accompaniment=True)
    assert state(replace(OPEN, community_area="ringsted_midtby"), anywhere) is RequestState.open


def test_mine_while_going_along_and_for_30_days_after_the_welcome() -> None:
    mine = replace(OPEN, companion_id="amb-lars", arranged_at=NOW - timedelta(days=2))
    assert state(replace(mine, status=Status.accompaniment_arranged)) is RequestState.mine
    assert state(replace(mine, status=Status.accompanied)) is RequestState.mine
    welcomed = replace(mine, status=Status.welcomed, welcomed_at=NOW - timedelta(days=30))
    assert state(welcomed) is RequestState.mine
    assert state(replace(welcomed, welcomed_at=NOW - timedelta(days=31))) is None
    assert state(replace(mine, status=Status.participating, welcomed_at=NOW)) is None
    # Mine even where I would not have been offered it (the referrer named me).
    assert state(replace(mine, status=Status.accompanied, needs_accompaniment=False), None) is RequestState.mine


def test_taken_by_someone_else_shows_for_14_days() -> None:
    taken = replace(OPEN, status=Status.accompaniment_arranged, companion_id="amb-sofie")
    assert state(replace(taken, arranged_at=NOW - timedelta(days=14))) is RequestState.taken
    assert state(replace(taken, arranged_at=NOW - timedelta(days=15))) is None
    assert state(replace(taken, arranged_at=NOW, community_area="ringsted_midtby")) is None  # never mine to take
    assert not access.is_candidate(ME, LARS, replace(taken, arranged_at=NOW), NOW)


def test_guides_see_every_open_request_and_nothing_else() -> None:
    guide = who(Role.guide, "guide-anne")
    assert state(replace(OPEN, community_area="ringsted_midtby"), None, guide) is RequestState.open
    taken = replace(OPEN, status=Status.accompaniment_arranged, companion_id="amb-sofie", arranged_at=NOW)
    assert state(taken, None, guide) is None
    assert state(OPEN, None, who(Role.community_contact, "c", ("strik",))) is None
    assert state(OPEN, None, who(Role.analyst)) is None


def test_taking_an_open_request_for_myself() -> None:
    access.check_can_take(ME, LARS, OPEN, "amb-lars")


@pytest.mark.parametrize(
    ("request_", "volunteer", "companion", "error", "message"),
    [
        (OPEN, LARS, "amb-sofie", Forbidden, "only for yourself"),
        (OPEN, Volunteer("amb-lars", "vestervang", False), "amb-lars", Forbidden, "do not offer accompaniment"),
        (OPEN, None, "amb-lars", Forbidden, "do not offer accompaniment"),
        (
            replace(OPEN, status=Status.accompaniment_arranged, companion_id="amb-sofie"),
            LARS,
            "amb-lars",
            Conflict,
            "accompaniment is already taken by another companion",
        ),
        (replace(OPEN, declined=True), LARS, "amb-lars", Forbidden, "you declined"),
        (replace(OPEN, needs_accompaniment=False), LARS, "amb-lars", Forbidden, "does not ask for a companion"),
        (replace(OPEN, community_area="ringsted_midtby"), LARS, "amb-lars", Forbidden, "outside your area"),
    ],
)
def test_who_may_not_take_it(
    request_: Request, volunteer: Volunteer | None, companion: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        access.check_can_take(ME, volunteer, request_, companion)


def test_saying_no() -> None:
    access.check_can_decline(ME, LARS, OPEN)
    access.check_can_decline(ME, LARS, replace(OPEN, declined=True))  # again: still fine
    access.check_can_decline(ME, LARS, replace(OPEN, companion_id="amb-sofie", status=Status.accompaniment_arranged))
    with pytest.raises(Conflict, match="you are the arranged companion"):
        access.check_can_decline(ME, LARS, replace(OPEN, companion_id="amb-lars", status=Status.accompanied))
    with pytest.raises(Forbidden, match="not an accompaniment request for you"):
        access.check_can_decline(ME, LARS, replace(OPEN, community_area="ringsted_midtby"))
    with pytest.raises(Forbidden, match="does not accompany"):
        access.check_can_decline(who(Role.community_contact, "c", ("strik",)), None, OPEN)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.community_contact, True), (Role.guide, True), (Role.admin, True), (Role.professional, False)],
)
def test_the_community_side_proposes_the_visit_and_reports_a_no_show(role: Role, allowed: bool) -> None:
    for action in (Action.propose_visit, Action.no_show):
        if allowed:
            domain.check_can_act(who(role), action)
        else:
            with pytest.raises(Forbidden, match="allowed roles"):
                domain.check_can_act(who(role), action)
