"""Pure rules of the catalogue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from services.catalogue.domain import (
    Schedule,
    categories_from_terms,
    category_by_term_id,
    check_area,
    check_capacity_reporter,
    check_categories,
    check_kind_dates,
    check_schedule,
    contact_email_filter,
    decide_capacity,
    distance_km,
    hsds_id_for,
    page_count,
    shown,
    stable_uuid,
    term_id,
)
from services.catalogue.ratelimit import TokenBucket
from shared.errors import Forbidden, Invalid
from shared.principal import Principal, Role


@pytest.mark.parametrize(
    ("total", "available", "status", "expected"),
    [
        (20, 5, None, "open"),
        (20, 0, None, "full"),
        (20, 0, "waitlist", "waitlist"),
        (None, None, None, "open"),
        (10, 3, "waitlist", "waitlist"),
    ],
)
def test_capacity_status_is_derived_or_kept(
    total: int | None, available: int | None, status: str | None, expected: str
) -> None:
    assert decide_capacity(total, available, status).status == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("total", "available", "status", "field"),
    [(5, 6, None, "available"), (5, 0, "open", "status"), (5, 2, "full", "status"), (-1, None, None, "total")],
)
def test_inconsistent_capacity_is_refused_with_the_field(
    total: int, available: int | None, status: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        decide_capacity(total, available, status)  # type: ignore[arg-type]
    assert caught.value.details["field"] == field


def test_open_seats_need_status_open_and_a_free_seat() -> None:
    assert decide_capacity(10, 2, None).has_open_seats
    assert decide_capacity(None, None, None).has_open_seats
    assert not decide_capacity(10, 2, "waitlist").has_open_seats


def test_schedules_are_checked_and_described_in_danish() -> None:
    weekly = check_schedule(Schedule("weekly", "tue", time(14), time(16)))
    assert weekly.describe_da() == "Hver tirsdag kl. 14.00–16.00"
    monthly = check_schedule(Schedule("monthly", "fri", time(18), time(21), -1))
    assert monthly.describe_da() == "Sidste fredag i måneden kl. 18.00–21.00"
    with pytest.raises(ValueError, match="after opens_at"):
        check_schedule(Schedule("weekly", "tue", time(16), time(14)))
    with pytest.raises(ValueError, match="week_of_month"):
        check_schedule(Schedule("monthly", "tue", time(14), time(16)))


def test_practice_tracks_need_dates_in_order() -> None:
    check_kind_dates("permanent", None, None)
    check_kind_dates("practice_track", date(2025, 3, 5), date(2025, 4, 23))
    with pytest.raises(ValueError, match="starts_on and ends_on"):
        check_kind_dates("practice_track", None, date(2025, 4, 23))
    with pytest.raises(ValueError, match="on or after"):
        check_kind_dates("practice_track", date(2025, 4, 23), date(2025, 3, 5))


def test_categories() -> None:
    assert check_categories(["food", "social", "food"]) == ["food", "social"]
    assert check_categories(["Mad og fællesspisning"]) == ["food"]  # a Danish label is taken as its code
    with pytest.raises(Invalid, match="use one of") as caught:
        check_categories(["knitting"])
    assert "creative" in caught.value.details["allowed"]
    assert categories_from_terms(["Mental Health Counselling", "Running club"]) == ["health", "sport"]
    assert categories_from_terms(["name", "code"]) == []


def test_areas_are_profile_codes_and_unknown_ones_are_refused_by_name() -> None:
    assert check_area("benloese") == "benloese"
    assert check_area("Rønnebærparken") == "roennebaerparken"  # a label is stored as its code
    with pytest.raises(Invalid) as caught:
        check_area("Atlantis", "location.area")
    assert caught.value.details["field"] == "location.area"
    assert "use one of" in caught.value.message and "vestervang" in caught.value.message


def test_taxonomy_term_ids_stay_stable() -> None:
    # Other directories link to these ids: they must not change with the profile's labels.
    assert term_id("food") == stable_uuid("category", "food") == "80b7a3a7-db6f-59f7-8233-5510320557de"
    assert category_by_term_id()[term_id("creative")] == "creative"


def test_hsds_ids_are_uuids_and_stable() -> None:
    uuid_id = "AC148810-D857-441C-9679-408F346DE14B"
    assert hsds_id_for("community", uuid_id) == uuid_id.lower()
    derived = hsds_id_for("community", "demo-community-01")
    assert derived == hsds_id_for("community", "demo-community-01") != hsds_id_for("organization", "demo-community-01")
    assert len(derived) == 36


def test_distance_and_pages_and_local_time() -> None:
    assert distance_km(55.4428, 11.7905, 55.4622, 11.7731) == pytest.approx(2.43, abs=0.05)  # midtby → Benløse
    assert (page_count(0, 20), page_count(41, 20)) == (1, 3)
    summer = shown(datetime(2025, 7, 1, 10, 0))  # SQLite hands back naive UTC
    assert summer is not None and summer.hour == 12 and summer.utcoffset() is not None
    winter = shown(datetime(2025, 1, 1, 10, 0, tzinfo=UTC))
    assert winter is not None and winter.hour == 11


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    bucket = TokenBucket(rate_per_second=1.0, burst=2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(1.0)
    assert bucket.take("b") == 0.0  # per client
    now[0] = 1.0
    assert bucket.take("a") == 0.0


def test_a_community_contact_reports_seats_only_for_the_communities_their_token_lists() -> None:
    contact = Principal("contact:1", Role.community_contact, ("c-1", "c-2"))
    check_capacity_reporter(contact, "c-2")
    check_capacity_reporter(Principal("guide-anne", Role.guide), "c-9")
    check_capacity_reporter(Principal("admin", Role.admin), "c-9")
    for principal, community in (
        (contact, "c-3"),
        (Principal("amb-lars", Role.ambassador, ("c-1",)), "c-1"),
        (Principal("prof-mette", Role.professional), "c-1"),
    ):
        with pytest.raises(Forbidden):
            check_capacity_reporter(principal, community)


def test_only_guides_and_admins_search_by_contact_email() -> None:
    guide = Principal("guide-anne", Role.guide)
    assert contact_email_filter(guide, None) is None
    assert contact_email_filter(guide, " Birthe@Forening.DK ") == "birthe@forening.dk"
    with pytest.raises(Invalid):
        contact_email_filter(guide, "  ")
    with pytest.raises(Forbidden):
        contact_email_filter(Principal("prof-mette", Role.professional), "birthe@forening.dk")
    assert contact_email_filter(Principal("prof-mette", Role.professional), None) is None
