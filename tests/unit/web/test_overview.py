"""Overblik's pure rules: the period picker (presets, whole months, the current month up to
today, Danish messages tied to the fields) and the cascade chart's geometry; and how the
metrics become rows (hidden cells stay hidden, readiness and loneliness)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from services.web.overview import Column, Month, OverviewPeriod, cascade_chart, decimal, nice_top, parse_period
from services.web.service.overview import (
    HIDDEN_DERIVED,
    Cascade,
    Generation,
    Metrics,
    Readiness,
    describe,
    generations,
    loneliness_rows,
    readiness_rows,
)

TODAY = date(2026, 12, 2)


def period(**params: str) -> OverviewPeriod:
    choice = parse_period(params, TODAY)
    assert choice.errors == [] and choice.period is not None
    return choice.period


def errors(**params: str) -> list[tuple[str, str]]:
    choice = parse_period(params, TODAY)
    assert choice.period is None
    return choice.errors


# ---------------------------------------------------------------------- months and periods


def test_months_parse_shift_across_years_and_know_their_last_day() -> None:
    assert Month.parse("2026-03") == Month(2026, 3) == Month.parse(" 2026-3 ")
    assert [Month.parse(text) for text in ("2026-13", "2026-00", "26-03", "marts", "")] == [None] * 5
    assert Month(2026, 1).shifted(-1) == Month(2025, 12) and Month(2025, 12).shifted(1) == Month(2026, 1)
    assert Month(2026, 12).shifted(-11) == Month(2026, 1)
    assert Month(2024, 2).last_day == date(2024, 2, 29) and Month(2025, 12).last_day == date(2025, 12, 31)
    assert str(Month(2026, 3)) == "2026-03" and Month(2026, 3).words == "marts 2026"


def test_no_choice_is_the_last_twelve_months_up_to_today() -> None:
    chosen = period()
    assert (chosen.start, chosen.end) == (Month(2026, 1), Month(2026, 12))
    assert chosen.analytics_params == {"from": "2026-01-01", "to": "2026-12-02"}  # not into the future
    assert chosen.query == {"from": "2026-01", "to": "2026-12"}
    assert chosen.preset == "seneste-12"
    assert chosen.label == "januar 2026 – december 2026 (til og med i dag)"


def test_presets() -> None:
    this_year = period(periode="i-aar")
    assert (this_year.start, this_year.end) == (Month(2026, 1), Month(2026, 12))
    assert this_year.preset == "seneste-12"  # in December the two are the same months
    last_year = period(periode="sidste-aar")
    assert last_year.analytics_params == {"from": "2025-01-01", "to": "2025-12-31"}
    assert last_year.preset == "sidste-aar" and last_year.label == "januar 2025 – december 2025"
    in_march = parse_period({"periode": "i-aar"}, date(2026, 3, 15)).period
    assert in_march is not None and in_march.analytics_params == {"from": "2026-01-01", "to": "2026-03-15"}
    assert in_march.preset == "i-aar"
    assert errors(periode="altid") == [("from", "Vælg en af de faste perioder, eller skriv fra og til")]


def test_months_typed_in_the_form() -> None:
    may = period(**{"from": "2021-05", "to": "2021-05"})
    assert may.analytics_params == {"from": "2021-05-01", "to": "2021-05-31"}
    assert may.label == "maj 2021" and may.preset is None
    assert may.filename == "vejviser-overblik-2021-05-2021-05.csv"
    # typed months win over a preset left in the address
    assert period(**{"from": "2025-02", "to": "2025-04", "periode": "i-aar"}).start == Month(2025, 2)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2026-13", "to": "2026-06"}, [("from", "Skriv fra-måneden som år og måned, fx 2026-12")]),
        ({"from": "2026-01", "to": "juni"}, [("to", "Skriv til-måneden som år og måned, fx 2026-12")]),
        ({"from": "2026-01"}, [("to", "Skriv til-måneden, fx 2026-12")]),
        (
            {"from": "2026-06", "to": "2026-01"},
            [("from", "Fra-måneden skal ligge før til-måneden eller være den samme")],
        ),
        ({"from": "1999-12", "to": "2026-01"}, [("from", "Vælg fra-måneden i år 2000 eller senere")]),
        (
            {"from": "2027-01", "to": "2027-02"},
            [
                ("from", "Fra-måneden kan ikke ligge efter denne måned (december 2026)"),
                ("to", "Til-måneden kan ikke ligge efter denne måned (december 2026)"),
            ],
        ),
    ],
)
def test_a_period_that_does_not_hold_names_its_field(params: dict[str, str], expected: list[tuple[str, str]]) -> None:
    choice = parse_period(params, TODAY)
    assert choice.period is None and choice.errors == expected
    assert choice.values["from"] == params.get("from", "")  # shown back as typed


# ---------------------------------------------------------------------- the chart


def test_the_axis_top_is_round() -> None:
    assert [nice_top(n) for n in (0, 1, 2, 3, 7, 10, 11, 42, 180, 5000)] == [1, 1, 2, 5, 10, 10, 20, 50, 200, 5000]


def test_bars_are_proportional_on_a_shared_axis_and_a_hidden_cell_has_no_bar() -> None:
    chart = cascade_chart(
        [Column("Guides", 2, 40), Column("Generation 1", 10, 20), Column("Generation 2", None, 3)], width=640
    )
    assert len(chart.bars) == 6 and [b.series for b in chart.bars[:2]] == ["referrers", "referrals"]
    tallest = chart.bars[1]  # 40 of a top of 50
    plot = chart.baseline - 24
    assert tallest.height == pytest.approx(plot * 40 / 50, abs=0.1)
    assert tallest.y + tallest.height == pytest.approx(chart.baseline, abs=0.1)  # bars stand on the axis
    assert chart.bars[3].height == pytest.approx(tallest.height / 2, abs=0.1)
    hidden = chart.bars[4]
    assert hidden.height == 0 and hidden.text == "<5" and hidden.text_y < chart.baseline
    assert [b.text for b in chart.bars] == ["2", "40", "10", "20", "<5", "3"]
    assert all(chart.left <= b.x and b.x + b.width <= chart.right for b in chart.bars)  # inside the plot
    assert all(b.text_y > 0 for b in chart.bars)  # numbers above the bars stay in the picture
    centres = [label.x for label in chart.labels]
    assert centres == sorted(centres) and len({round(b - a) for a, b in itertools.pairwise(centres)}) == 1
    assert [t.text for t in chart.ticks] == ["0", "25", "50"]


def test_small_and_empty_charts() -> None:
    one = cascade_chart([Column("Guides", 1, 1)])
    assert [t.text for t in one.ticks] == ["0", "1"]  # no half-units on the axis
    assert cascade_chart([Column("Guides", 0, 0)]).bars[0].height == 0
    assert cascade_chart([]).bars == ()


# ---------------------------------------------------------------------- rows


def test_generations_come_oldest_first_with_short_labels_when_many() -> None:
    cascade = Cascade(generations=[Generation(generation=1, referrers=3, referrals=None), Generation(generation=0)])
    columns = generations(cascade)
    assert [c.label for c in columns] == ["Guides", "Generation 1"]
    assert describe(columns) == "Guides: <5 vejvisere, <5 henvisninger; Generation 1: 3 vejvisere, <5 henvisninger."
    many = generations(Cascade(generations=[Generation(generation=g, referrers=1, referrals=1) for g in range(7)]))
    assert [c.label for c in many][:3] == ["Guides", "Gen. 1", "Gen. 2"]
    assert describe([]) == "Ingen henvisninger i perioden." and decimal(1.5) == "1,50" and decimal(None) == "–"


def test_readiness_rows_by_sector_with_ambassadors_and_the_total() -> None:
    readiness = Readiness(
        by_sector={
            "job_centre": {"activated": 7, "aware": 7, "trained": 5, "referring": None, "accompanying": 0},
            "ambassador": {"activated": None, "aware": None, "trained": None, "referring": None, "accompanying": 0},
        },
        total={"activated": 9, "aware": 9, "trained": 6, "referring": 3, "accompanying": 0},
    )
    rows = readiness_rows(readiness)
    assert [r.label for r in rows] == ["Jobcenter", "Ambassadører", "I alt"]
    assert rows[0].cells == (7, 7, 5, None, 0) and rows[0].hides and not rows[2].hides
    assert readiness_rows(None) == [] and readiness_rows(Readiness(total={"activated": 0})) == []


def test_loneliness_rows_keep_hidden_values_hidden() -> None:
    metrics = Metrics.model_validate(
        {
            "as_of": datetime(2026, 12, 2, tzinfo=UTC),
            "loneliness": {
                "referral": {"measured": 6, "scores": {"3": 0, "7": None, "9": None}, "lonely_share": 0.5},
                "week_12": {"measured": None, "scores": {"3": None, "7": 0, "9": 0}, "lonely_share": None},
                "paired": None,
                "mean_change": None,
            },
            "suppressed": ["loneliness.week_12.lonely_share", "loneliness.mean_change", "loneliness.paired"],
        }
    )
    scores, change = loneliness_rows(metrics)
    assert [(r.label, r.cells) for r in scores] == [
        ("Målt", (6, None)),
        ("Score 3", (0, None)),
        ("Score 7", (None, 0)),
        ("Score 9", (None, 0)),
        ("Andel med score 7 eller mere", ("50 %", HIDDEN_DERIVED)),
    ]
    assert [(r.label, r.cells) for r in change] == [
        ("Målt begge gange", (None,)),
        ("Gennemsnitlig ændring", (HIDDEN_DERIVED,)),
    ]
    shown = metrics.model_copy(update={"suppressed": []})
    assert loneliness_rows(shown)[0][-1].cells == ("50 %", "–")  # nothing to work out from: a dash
    assert loneliness_rows(metrics.model_copy(update={"loneliness": None})) == ([], [])
