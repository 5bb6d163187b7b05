"""Pure rules: periods on the Copenhagen calendar, percentiles, lineage, disclosure, schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.analytics.domain import (
    Period,
    disclose,
    flatten,
    from_us,
    minus_local_days,
    next_run,
    nightly_periods,
    percentile,
    resolve_lineage,
    to_us,
)


def test_period_bounds_are_copenhagen_days() -> None:
    start, end = Period(date(2024, 1, 1), date(2024, 6, 30)).bounds(0)
    assert from_us(start) == datetime(2023, 12, 31, 23, 0, tzinfo=UTC)  # CET
    assert from_us(end) == datetime(2024, 6, 30, 22, 0, tzinfo=UTC)  # CEST
    as_of = to_us(datetime(2024, 7, 1, 12, tzinfo=UTC))
    assert Period().bounds(as_of) == (None, as_of + 1)
    with pytest.raises(ValueError, match="after"):
        Period(date(2024, 2, 1), date(2024, 1, 1))


def test_wall_clock_days_across_daylight_saving() -> None:
    end = to_us(datetime(2024, 4, 1, 22, 0, tzinfo=UTC))  # midnight 2 April, Copenhagen
    # 30 calendar days earlier is midnight 3 March (CET), 23 hours short of 30 * 24 in UTC.
    assert from_us(minus_local_days(end, 30)) == datetime(2024, 3, 2, 23, 0, tzinfo=UTC)


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert percentile([0.0, 10.0], 0.9) == pytest.approx(9.0)
    assert percentile([1.0, 2.0, 5.0], 0.9) == pytest.approx(4.4)


def test_lineage_follows_parents_and_leaves_the_unconnected_out() -> None:
    parents = {"prof": "guide", "amb": "prof", "loop-a": "loop-b", "loop-b": "loop-a", "orphan": None, "lost": "nobody"}
    lineage = resolve_lineage([*parents, "guide"], lambda a: a == "guide", lambda a: parents.get(a))
    assert lineage.generation == {"guide": 0, "prof": 1, "amb": 2}
    assert lineage.root == {"guide": "guide", "prof": "guide", "amb": "guide"}


def test_lineage_of_a_deep_cascade_does_not_recurse() -> None:
    depth = 5000
    lineage = resolve_lineage([f"a{depth}"], lambda a: a == "a0", lambda a: f"a{int(a[1:]) - 1}")
    assert lineage.generation[f"a{depth}"] == depth


def test_disclosure_hides_cells_of_one_to_four() -> None:
    metrics = {
        "equity": {"by_target_group": {"x": {"referred": 5, "welcomed": 4}}},
        "areas": {"welcomed_by_area": {"A": 0, "B": 1}},
        "referrers": {"referrals_by_sector": {"s": 12}},
        "cascade": {"reach_by_guide": {"g": 3}, "referrals_by_generation": {"1": 2}},
        "suppressed": [],
    }
    shown = disclose(metrics, suppress=True)
    assert shown["equity"]["by_target_group"]["x"] == {"referred": 5, "welcomed": None}
    assert shown["areas"]["welcomed_by_area"] == {"A": 0, "B": None}
    assert shown["cascade"]["referrals_by_generation"] == {"1": 2}  # not a disclosure-controlled breakdown
    assert shown["suppressed"] == [
        "equity.by_target_group.x.welcomed",
        "areas.welcomed_by_area.B",
        "cascade.reach_by_guide.g",
    ]
    assert metrics["areas"]["welcomed_by_area"]["B"] == 1  # the input is untouched
    assert ("areas.welcomed_by_area.B", None) in flatten(shown)


def test_nightly_schedule_on_the_copenhagen_clock() -> None:
    # 02:00 Copenhagen in summer is 00:00 UTC; in winter 01:00 UTC.
    assert next_run("0 2 * * *", datetime(2024, 6, 30, 12, tzinfo=UTC)) == datetime(2024, 7, 1, 0, tzinfo=UTC)
    assert next_run("0 2 * * *", datetime(2024, 12, 1, 12, tzinfo=UTC)) == datetime(2024, 12, 2, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="cron"):
        next_run("every night", datetime(2024, 1, 1, tzinfo=UTC))
    periods = nightly_periods(datetime(2024, 7, 1, 0, 5, tzinfo=UTC))  # 02:05 on 1 July
    assert periods.yesterday == Period(date(2024, 6, 30), date(2024, 6, 30))
    assert periods.last_30_days == Period(date(2024, 6, 1), date(2024, 6, 30))
    assert periods.all_time == Period()


def loneliness(measured: int, week_12: int, paired: int, mean_change: float | None) -> dict[str, object]:
    def at(n: int, share: float | None) -> dict[str, object]:
        return {"measured": n, "scores": {"3": 0, "7": min(n, 3), "8": max(0, n - 3)}, "lonely_share": share}

    return {
        "referral": at(measured, 1.0 if measured else None),
        "week_12": at(week_12, 0.5 if week_12 else None),
        "paired": paired,
        "mean_change": mean_change,
    }


def test_disclosure_of_loneliness_judges_shares_and_means_by_their_base() -> None:
    shown = disclose({"loneliness": loneliness(8, 3, 3, -1.5), "suppressed": []}, suppress=True)
    lonely = shown["loneliness"]
    # Eight measured at the referral: the count and share shown, the cell of 3 hidden, 5 shown.
    assert lonely["referral"] == {"measured": 8, "scores": {"3": 0, "7": None, "8": 5}, "lonely_share": 1.0}
    # Three at week 12 and three paired: the counts, the share and the mean are all hidden.
    assert lonely["week_12"] == {"measured": None, "scores": {"3": 0, "7": None, "8": 0}, "lonely_share": None}
    assert (lonely["paired"], lonely["mean_change"]) == (None, None)
    assert shown["suppressed"] == [
        "loneliness.referral.scores.7",
        "loneliness.week_12.scores.7",
        "loneliness.week_12.lonely_share",
        "loneliness.mean_change",
        "loneliness.week_12.measured",
        "loneliness.paired",
    ]
    five = disclose({"loneliness": loneliness(5, 5, 5, -0.4), "suppressed": []}, suppress=True)["loneliness"]
    assert (five["paired"], five["mean_change"], five["week_12"]["lonely_share"]) == (5, -0.4, 0.5)


def test_disclosure_leaves_missing_and_empty_sections_alone() -> None:
    assert disclose({"loneliness": None, "suppressed": []}, suppress=True) == {"loneliness": None, "suppressed": []}
    empty = loneliness(0, 0, 0, None)
    assert disclose({"loneliness": empty, "suppressed": []}, suppress=True)["suppressed"] == []


def test_flatten_gives_each_row_of_a_list_its_position() -> None:
    rows = flatten({"cascade": {"generations": [{"generation": 0, "referrals": 2}, {"generation": 1, "referrals": 0}]}})
    assert rows == [
        ("cascade.generations.0.generation", 0),
        ("cascade.generations.0.referrals", 2),
        ("cascade.generations.1.generation", 1),
        ("cascade.generations.1.referrals", 0),
    ]
