"""Overblik: the analytics service's metrics for a period, asked for as the logged-in person
(so disclosure control is theirs: a hidden cell arrives as null and stays hidden here), and
turned into what the page shows: key figures, the cascade by generation, who refers, reach,
readiness and loneliness, each row with the profile's Danish labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from services.web.domain import WebUser
from services.web.overview import Chart, Column, OverviewPeriod, cascade_chart, number
from services.web.service import Pages
from services.web.service.answers import Answer
from shared.profile import profile

ROLE_WORDS = {"guide": "Fællesskabsguides", "professional": "Fagpersoner", "ambassador": "Ambassadører"}
READINESS_LEVELS = (
    ("activated", "Aktiveret"),
    ("aware", "Kender Vejviser"),
    ("trained", "Uddannet"),
    ("referring", "Har henvist"),
    ("accompanying", "Har fulgt en borger"),
)
AMBASSADORS = "ambassador"  # the readiness funnel's own row for ambassadors (they have no sector)
LONELY_FROM = 7  # the UCLA 3-item scale runs 3..9; 7 or more counts as lonely

Cell = int | str | None  # a count, a worded value, or None: hidden by disclosure control
# A share or mean worked out over 1-4 people is hidden too; it is no count, so not "<5".
HIDDEN_DERIVED = "skjult (færre end 5 målt)"


class TimeToWelcome(Answer):
    median: float | None = None


class ReferralCounts(Answer):
    created: int = 0
    accepted: int = 0
    accompanied: int = 0
    welcomed: int = 0
    participating_4w: int = 0
    participating_12w: int = 0
    no_show: int = 0
    welcome_rate: float | None = None
    time_to_welcome_days: TimeToWelcome = Field(default_factory=TimeToWelcome)


class AccompanimentCounts(Answer):
    gap: int = 0


class Generation(Answer):
    generation: int
    referrers: int | None = None
    referrals: int | None = None
    branching_factor: float | None = None


class Cascade(Answer):
    unattributed_referrals: int | None = 0
    self_sustainment: float | None = None
    max_depth: int | None = None
    generations: list[Generation] = Field(default_factory=list)


class Referrers(Answer):
    active_30d: int = 0
    referrals_by_role: dict[str, int | None] = Field(default_factory=dict)
    referrals_by_sector: dict[str, int | None] = Field(default_factory=dict)


class Reach(Answer):
    referred: int | None = None
    welcomed: int | None = None


class Equity(Answer):
    by_target_group: dict[str, Reach] = Field(default_factory=dict)


class Readiness(Answer):
    by_sector: dict[str, dict[str, int | None]] = Field(default_factory=dict)
    total: dict[str, int | None] = Field(default_factory=dict)


class LonelinessAt(Answer):
    measured: int | None = None
    scores: dict[str, int | None] = Field(default_factory=dict)
    lonely_share: float | None = None


class Loneliness(Answer):
    referral: LonelinessAt = Field(default_factory=LonelinessAt)
    week_12: LonelinessAt = Field(default_factory=LonelinessAt)
    paired: int | None = None
    mean_change: float | None = None


class Metrics(Answer):
    as_of: datetime
    referrals: ReferralCounts = Field(default_factory=ReferralCounts)
    accompaniment: AccompanimentCounts = Field(default_factory=AccompanimentCounts)
    cascade: Cascade = Field(default_factory=Cascade)
    referrers: Referrers = Field(default_factory=Referrers)
    equity: Equity = Field(default_factory=Equity)
    readiness: Readiness | None = None
    loneliness: Loneliness | None = None
    suppressed: list[str] = Field(default_factory=list)

    def shown(self, path: str, value: float | None, words: str) -> Cell:
        """A value worked out over a base (a share, a mean): hidden when analytics hid it,
        '–' when there is nothing to work it out from, else `words`."""
        if path in self.suppressed:
            return HIDDEN_DERIVED
        return "–" if value is None else words


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]

    @property
    def hides(self) -> bool:
        return None in self.cells


@dataclass(frozen=True)
class Overview:
    period: OverviewPeriod
    metrics: Metrics
    figures: list[Figure]
    funnel: list[Row]
    generations: list[Column]
    chart: Chart
    chart_description: str
    by_role: list[Row]
    by_sector: list[Row]
    target_groups: list[Row]
    readiness: list[Row]
    loneliness: list[Row]
    loneliness_change: list[Row]

    @property
    def hidden(self) -> int:
        return len(self.metrics.suppressed)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} dage".replace(".", ",")


def counted(value: int | None, one: str, many: str) -> str:
    """'1 henvisning', '3 henvisninger', '<5 henvisninger'."""
    return f"{number(value)} {one if value == 1 else many}"


def generations(cascade: Cascade) -> list[Column]:
    """The cascade's generations, oldest first, labelled short when there are many."""
    short = len(cascade.generations) > 5
    return [
        Column(
            "Guides" if g.generation == 0 else f"{'Gen.' if short else 'Generation'} {g.generation}",
            g.referrers,
            g.referrals,
            g.branching_factor,
        )
        for g in sorted(cascade.generations, key=lambda g: g.generation)
    ]


def describe(columns: list[Column]) -> str:
    """The chart in words (its <desc>): every number the bars show."""
    parts = [
        f"{c.label}: {counted(c.referrers, 'vejviser', 'vejvisere')}, "
        f"{counted(c.referrals, 'henvisning', 'henvisninger')}"
        for c in columns
    ]
    return "; ".join(parts) + "." if parts else "Ingen henvisninger i perioden."


def readiness_rows(readiness: Readiness | None) -> list[Row]:
    """One row per sector (ambassadors their own) and the total: the referrers activated by the
    period end, and those who reached at least each level. Empty when nobody is activated."""
    if readiness is None or not readiness.total.get("activated"):
        return []
    sector = profile().sector
    rows = [
        Row(
            "Ambassadører" if code == AMBASSADORS else sector.label(code),
            tuple(cells.get(k) for k, _ in READINESS_LEVELS),
        )
        for code, cells in readiness.by_sector.items()
    ]
    return [*rows, Row("I alt", tuple(readiness.total.get(k) for k, _ in READINESS_LEVELS))]


def loneliness_rows(metrics: Metrics) -> tuple[list[Row], list[Row]]:
    """The scores at the referral and at week 12 side by side, and the change among the paired."""
    found = metrics.loneliness
    if found is None:
        return [], []
    moments = (("referral", found.referral), ("week_12", found.week_12))
    scores = sorted({score for _, at in moments for score in at.scores}, key=int)
    share = [
        metrics.shown(f"loneliness.{name}.lonely_share", at.lonely_share, percent(at.lonely_share))
        for name, at in moments
    ]
    rows = [
        Row("Målt", (found.referral.measured, found.week_12.measured)),
        *(Row(f"Score {score}", tuple(at.scores.get(score) for _, at in moments)) for score in scores),
        Row(f"Andel med score {LONELY_FROM} eller mere", tuple(share)),
    ]
    change = "–" if found.mean_change is None else f"{found.mean_change:+.1f} point".replace(".", ",")
    paired = [
        Row("Målt begge gange", (found.paired,)),
        Row("Gennemsnitlig ændring", (metrics.shown("loneliness.mean_change", found.mean_change, change),)),
    ]
    return rows, paired


def overview(pages: Pages, user: WebUser, period: OverviewPeriod) -> Overview:
    metrics = pages.analytics.get(user, "/v1/metrics", Metrics, params=period.analytics_params)
    referrals, place = metrics.referrals, profile()
    columns = generations(metrics.cascade)
    figures = [
        Figure("Henvisninger", number(referrals.created), "oprettet i perioden"),
        Figure("Budt velkommen", percent(referrals.welcome_rate), counted(referrals.welcomed, "borger", "borgere")),
        Figure("Deltager stadig efter 12 uger", number(referrals.participating_12w)),
        Figure("Tid til velkomst", days(referrals.time_to_welcome_days.median), "median"),
        Figure("Fra andre end guiderne", percent(metrics.cascade.self_sustainment), "selvbærende andel"),
        Figure("Mangler følgeskab", number(metrics.accompaniment.gap), "havde brug for følgeskab, blev ikke fulgt"),
    ]
    funnel = [
        Row(label, (value,))
        for label, value in (
            ("Oprettet", referrals.created),
            ("Accepteret af fællesskabet", referrals.accepted),
            ("Fulgt derhen", referrals.accompanied),
            ("Budt velkommen", referrals.welcomed),
            ("Deltager stadig efter 4 uger", referrals.participating_4w),
            ("Deltager stadig efter 12 uger", referrals.participating_12w),
            ("Kom ikke", referrals.no_show),
        )
    ]
    refs, equity = metrics.referrers, metrics.equity
    loneliness, change = loneliness_rows(metrics)
    return Overview(
        period=period,
        metrics=metrics,
        figures=figures,
        funnel=funnel,
        generations=columns,
        chart=cascade_chart(columns),
        chart_description=describe(columns),
        by_role=[Row(ROLE_WORDS.get(code, code), (n,)) for code, n in refs.referrals_by_role.items()],
        by_sector=[Row(place.sector.label(code), (n,)) for code, n in refs.referrals_by_sector.items()],
        target_groups=[
            Row(place.target_group.label(code), (cell.referred, cell.welcomed))
            for code, cell in equity.by_target_group.items()
        ],
        readiness=readiness_rows(metrics.readiness),
        loneliness=loneliness,
        loneliness_change=change,
    )


def metrics_csv(pages: Pages, user: WebUser, period: OverviewPeriod) -> bytes:
    """The analytics service's CSV of the period (always disclosure-controlled there)."""
    return pages.analytics.call(user, "GET", "/v1/metrics.csv", params=period.analytics_params).content
