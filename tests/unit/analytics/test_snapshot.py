"""The columnar snapshot: coding of ids, the first referral, and its guards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.analytics import assemble
from services.analytics.columns import (
    ActorColumns,
    CommunityColumns,
    ReferralColumns,
    Tables,
    columns_of,
    times,
)
from services.analytics.domain import Period, citizen_key, to_us
from services.analytics.metrics import compute
from services.analytics.snapshot import Snapshot

AS_OF = datetime(2024, 7, 1, tzinfo=UTC)
T0 = to_us(datetime(2024, 1, 10, tzinfo=UTC))
DAY = 86_400_000_000
NO_STAGES = 0


def referral(day: int, citizen: str, referrer: str, community: str = "c1") -> tuple[Any, ...]:
    # (created, citizen key, community, referrer, needs, stages by as_of, welcomed, reason)
    return (T0 + day * DAY, citizen_key(citizen), community, referrer, 0, NO_STAGES, None, None, 0)


def build(referrals: list[tuple[Any, ...]], actors: list[tuple[Any, ...]] | None = None) -> Snapshot:
    tables = replace(
        Tables.empty(to_us(AS_OF)),
        actors=columns_of(ActorColumns, actors or []),
        referrals=columns_of(ReferralColumns, referrals),
        communities=columns_of(CommunityColumns, [("c1", "ringsted_midtby", "association")]),
    )
    return assemble.build(tables)


def test_citizen_key_is_a_stable_signed_64_bit_number() -> None:
    key = citizen_key("cit-1")
    assert key == citizen_key("cit-1") != citizen_key("cit-2")
    assert -(2**63) <= key < 2**63


def test_first_referral_is_the_earliest_and_ties_go_to_the_smaller_referrer_id() -> None:
    snap = build(
        [
            referral(5, "anna", "prof-a"),
            referral(2, "anna", "prof-z"),  # earliest: prof-z, although its id sorts last
            referral(3, "bo", "prof-z"),
            referral(3, "bo", "prof-b"),  # same time: the smaller id wins
        ]
    )
    first = snap.first_referrer
    codes = snap.citizen_codes(["anna", "bo", "nobody"]).tolist()
    assert codes[2] == -1
    assert snap.actor_ids[first[codes[0]]] == "prof-z"
    assert snap.actor_ids[first[codes[1]]] == "prof-b"


def test_actor_codes_sort_as_the_ids_and_unknown_referrers_get_codes_too() -> None:
    snap = build(
        [referral(1, "anna", "zed"), referral(1, "bo", "amb-1")],
        # (actor id, role, sector, activated by, citizen ref, activated)
        actors=[("guide-1", "guide", None, None, None, T0)],
    )
    assert snap.actor_ids == sorted(snap.actor_ids)
    assert set(snap.actor_ids) == {"guide-1", "zed", "amb-1"}


def test_times_beyond_what_float64_holds_exactly_are_refused() -> None:
    with pytest.raises(ValueError, match="2255"):
        times([1, 2**53])


def test_a_snapshot_answers_only_for_its_own_as_of() -> None:
    snap = build([referral(1, "anna", "prof-a")])
    assert compute(snap, Period(), AS_OF)["referrals"]["created"] == 1
    with pytest.raises(ValueError, match="as_of"):
        compute(snap, Period(), AS_OF + timedelta(days=1))
