"""Pure rules of Overblik (`/overblik`): the period a person asks for (whole months, presets,
Danish messages tied to the form's fields) and the geometry of the cascade chart.

No I/O: "today" is an argument, so every rule is unit-tested.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from shared.danish import MONTHS

# The earliest month the form accepts: older input is a typing mistake, not a programme year.
FIRST_YEAR = 2000
MONTH_PATTERN = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
PRESETS = {"seneste-12": "Seneste 12 måneder", "i-aar": "I år", "sidste-aar": "Sidste år"}
DEFAULT_PRESET = "seneste-12"
FIELD_WORDS = {"from": "fra-måneden", "to": "til-måneden"}

Errors = list[tuple[str, str]]


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month | None:
        """'2026-03' (or '2026-3'); None when it is not a month."""
        found = MONTH_PATTERN.match(text)
        if not found or not 1 <= int(found[2]) <= 12:
            return None
        return cls(int(found[1]), int(found[2]))

    def shifted(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.shifted(1).first_day - timedelta(days=1)

    @property
    def words(self) -> str:
        return f"{MONTHS[self.month - 1]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class OverviewPeriod:
    """Whole months from `start` to `end` (inclusive); the current month counts up to today."""

    start: Month
    end: Month
    today: date

    @property
    def from_date(self) -> date:
        return self.start.first_day

    @property
    def to_date(self) -> date:
        return min(self.end.last_day, self.today)

    @property
    def label(self) -> str:
        """'december 2025 – november 2026' ('marts 2023' for one month); '(til i dag)' when
        the period ends this month."""
        words = self.start.words if self.start == self.end else f"{self.start.words} – {self.end.words}"
        return words + (" (til og med i dag)" if self.end == Month.of(self.today) else "")

    @property
    def query(self) -> dict[str, str]:
        return {"from": str(self.start), "to": str(self.end)}

    @property
    def analytics_params(self) -> dict[str, str]:
        """The analytics service's inclusive dates."""
        return {"from": self.from_date.isoformat(), "to": self.to_date.isoformat()}

    @property
    def filename(self) -> str:
        return f"vejviser-overblik-{self.start}-{self.end}.csv"

    @property
    def preset(self) -> str | None:
        """The preset this period is, if any (the picker marks it as chosen)."""
        return next((key for key in PRESETS if preset_period(key, self.today) == self), None)


def preset_period(key: str, today: date) -> OverviewPeriod:
    this = Month.of(today)
    if key == "seneste-12":
        return OverviewPeriod(this.shifted(-11), this, today)
    if key == "i-aar":
        return OverviewPeriod(Month(today.year, 1), this, today)
    if key == "sidste-aar":
        return OverviewPeriod(Month(today.year - 1, 1), Month(today.year - 1, 12), today)
    raise KeyError(key)


@dataclass(frozen=True)
class PeriodChoice:
    """What the picker asked for: the period when it holds, else the Danish errors by field
    and the values as typed (shown back in the form)."""

    period: OverviewPeriod | None
    errors: Errors
    values: dict[str, str]


def _month(field: str, text: str, this: Month, errors: Errors) -> Month | None:
    words = FIELD_WORDS[field]
    if not text:
        errors.append((field, f"Skriv {words}, fx {this}"))
        return None
    month = Month.parse(text)
    if month is None:
        errors.append((field, f"Skriv {words} som år og måned, fx {this}"))
    elif month.year < FIRST_YEAR:
        errors.append((field, f"Vælg {words} i år {FIRST_YEAR} eller senere"))
    elif month > this:
        errors.append((field, f"{words.capitalize()} kan ikke ligge efter denne måned ({this.words})"))
    else:
        return month
    return None


def parse_period(params: Mapping[str, str], today: date) -> PeriodChoice:
    """`periode=<preset>`, or `from`/`to` as YYYY-MM; nothing at all is the last 12 months."""
    values = {field: str(params.get(field) or "").strip() for field in ("from", "to")}
    preset = str(params.get("periode") or "").strip()
    if not any(values.values()):
        if preset and preset not in PRESETS:
            return PeriodChoice(None, [("from", "Vælg en af de faste perioder, eller skriv fra og til")], values)
        period = preset_period(preset or DEFAULT_PRESET, today)
        return PeriodChoice(period, [], period.query)
    this, errors = Month.of(today), Errors()
    start = _month("from", values["from"], this, errors)
    end = _month("to", values["to"], this, errors)
    if start and end and start > end:
        errors.append(("from", "Fra-måneden skal ligge før til-måneden eller være den samme"))
    if errors or start is None or end is None:
        return PeriodChoice(None, errors, values)
    return PeriodChoice(OverviewPeriod(start, end, today), [], values)


# ---------------------------------------------------------------------- the cascade chart

SERIES = ("referrers", "referrals")


@dataclass(frozen=True)
class Bar:
    series: str  # "referrers" | "referrals": the stylesheet colours it
    x: float
    y: float
    width: float
    height: float
    text: str  # the number on top ("<5" for a hidden cell, which has no bar)
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    left: int
    right: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]


@dataclass(frozen=True)
class Column:
    """One generation: its label and its two numbers (None: hidden by disclosure control), and
    its branching factor (shown in the table, not drawn)."""

    label: str
    referrers: int | None
    referrals: int | None
    branching: float | None = None


def number(value: int | None) -> str:
    """'1.234'; a hidden cell is '<5'."""
    return "<5" if value is None else f"{value:,}".replace(",", ".")


def decimal(value: float | None) -> str:
    """'1,50' (Danish decimal comma); '–' for nothing."""
    return "–" if value is None else f"{value:.2f}".replace(".", ",")


def nice_top(value: int) -> int:
    """The axis' top: the smallest 1, 2 or 5 × 10^n at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def cascade_chart(columns: Sequence[Column], *, width: int = 640, height: int = 280) -> Chart:
    """One column per generation, a bar for its referrers and one for its referrals, on a
    shared axis from 0 to a round top; a hidden cell gets no bar, only '<5' on the axis."""
    left, right, top, bottom = 48, 8, 24, height - 44
    plot = bottom - top
    highest = nice_top(max([v for c in columns for v in (c.referrers, c.referrals) if v is not None], default=0))
    slot = (width - left - right) / max(1, len(columns))
    bar_width = min(56.0, slot * 0.34)
    bars, labels = [], []
    for i, column in enumerate(columns):
        centre = left + slot * (i + 0.5)
        for j, (series, value) in enumerate(zip(SERIES, (column.referrers, column.referrals), strict=True)):
            x = centre - bar_width - 2 + j * (bar_width + 4)
            size = 0.0 if not value else max(1.0, plot * value / highest)
            bars.append(
                Bar(series, round(x, 1), round(bottom - size, 1), round(bar_width, 1), round(size, 1),
                    number(value), round(x + bar_width / 2, 1), round(bottom - size - 6, 1))
            )  # fmt: skip
        labels.append(Label(round(centre, 1), bottom + 20, column.label))
    halves = (0, 1, 2) if highest % 2 == 0 else (0, 2)  # only whole numbers on the axis
    ticks = tuple(Tick(round(bottom - plot * half / 2, 1), number(highest * half // 2)) for half in halves)
    return Chart(width, height, bottom, left, width - right, tuple(bars), ticks, tuple(labels))
