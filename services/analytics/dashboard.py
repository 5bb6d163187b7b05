"""The Danish dashboard: a stored snapshot, disclosure-controlled, as one self-contained page
with server-side SVG charts (works offline, prints on A4), or embedded: only the page's lead
and content, without the document and its styles, for a client that shows it in its own
layout (the web client's Evaluering)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.analytics import charts, labels
from services.analytics.domain import disclose
from shared.clock import local
from shared.profile import profile

if TYPE_CHECKING:
    from services.analytics.service import Listed

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def short_month(month: str) -> str:
    """'2024-03' -> '03/24': fits under a column."""
    return f"{month[5:7]}/{month[2:4]}"


def _charts(
    metrics: dict[str, Any], monthly: list[dict[str, Any]], needs_by_area: dict[str, dict[str, int]]
) -> dict[str, Markup]:
    referrals, accompaniment, cascade = metrics["referrals"], metrics["accompaniment"], metrics["cascade"]
    refs, equity, capacity = metrics["referrers"], metrics["equity"], metrics["capacity"]
    seen = {g for month in monthly for g in month["referrals_by_generation"]} | set(cascade["referrals_by_generation"])
    generations = sorted(seen, key=int)
    gen_label = {g: ("Guides (gen. 0)" if g == "0" else f"Generation {g}") for g in generations}
    gen_label["u"] = "Uden tilknytning"
    columns = [
        (short_month(month["month"]), {**month["referrals_by_generation"], "u": month["unattributed_referrals"]})
        for month in monthly
    ]
    built = {
        "funnel": charts.hbar(
            "Tragten: fra henvisning til fællesskab",
            [
                ("Oprettet", referrals["created"]),
                ("Accepteret", referrals["accepted"]),
                ("Fulgt derhen", referrals["accompanied"]),
                ("Budt velkommen", referrals["welcomed"]),
                ("Deltager stadig (4 uger)", referrals["participating_4w"]),
                ("Deltager stadig (12 uger)", referrals["participating_12w"]),
            ],
        ),
        "generations": charts.hbar(
            "Henvisninger pr. generation i kaskaden",
            [
                *((gen_label[g], n) for g, n in cascade["referrals_by_generation"].items()),
                ("Uden tilknytning", cascade["unattributed_referrals"]),
            ],
            color=charts.PALETTE[3],
        ),
        "growth": charts.stacked_columns("Kaskadens vækst pr. måned", columns, [*generations, "u"], gen_label),
        "sustainment": charts.line(
            "Selvbærende over tid: andel henvisninger fra andre end guiderne",
            [(short_month(month["month"]), month["self_sustainment"]) for month in monthly],
        ),
        "by_role": charts.hbar(
            "Henvisninger pr. rolle", [(labels.role(code), n) for code, n in refs["referrals_by_role"].items()]
        ),
        "by_sector": charts.hbar(
            "Henvisninger pr. sektor",
            [(labels.sector(code), n) for code, n in refs["referrals_by_sector"].items()],
            color=charts.PALETTE[1],
        ),
        "accompaniment": charts.hbar(
            "Følgeskabsgabet",
            [
                ("Har brug for følgeskab", accompaniment["needed"]),
                ("Følgeskab aftalt", accompaniment["arranged"]),
                ("Fulgt derhen", accompaniment["accompanied"]),
                ("Gab: ikke fulgt", accompaniment["gap"]),
            ],
            color=charts.PALETTE[4],
        ),
        "equity": charts.paired_bars(
            "Rækkevidde i målgrupperne (antal borgere)",
            [
                (labels.target_group(code), cell["referred"], cell["welcomed"])
                for code, cell in equity["by_target_group"].items()
            ],
            ("Henvist", "Budt velkommen"),
        ),
        "rejections": charts.hbar(
            "Afviste henvisninger pr. årsag",
            [(labels.rejection_reason(code), n) for code, n in capacity["rejections_by_reason"].items()],
            color=charts.PALETTE[4],
        ),
        "needs": charts.hbar(
            "Uopfyldte behov pr. kategori",
            [(labels.category(code), n) for code, n in capacity["unmet_needs_by_category"].items()],
            color=charts.PALETTE[5],
        ),
        "needs_area": charts.hbar(
            "Uopfyldte behov pr. boligområde",
            [(labels.area(code), sum(needs.values())) for code, needs in sorted(needs_by_area.items())],
            color=charts.PALETTE[5],
        ),
        "areas": charts.hbar(
            "Budt velkommen pr. boligområde (fællesskabets område)",
            [(labels.area(code), n) for code, n in metrics["areas"]["welcomed_by_area"].items()],
            color=charts.PALETTE[2],
        ),
        "outreach": charts.hbar(
            "Opsøgende arbejde",
            [(labels.outreach_kind(kind), n) for kind, n in metrics["outreach"].items()],
            color=charts.PALETTE[6],
        ),
    }
    built.update(_followup_charts(metrics))
    return {name: Markup(svg) for name, svg in built.items()}


def _followup_charts(metrics: dict[str, Any]) -> dict[str, str]:
    """The readiness funnel's totals and the loneliness scores (when the snapshot has them)."""
    built: dict[str, str] = {}
    readiness, lonely = metrics.get("readiness"), metrics.get("loneliness")
    if readiness:
        built["readiness"] = charts.hbar(
            "Parathed: vejvisere, der mindst er nået hertil",
            [(labels.READINESS[count], n) for count, n in readiness["total"].items()],
            color=charts.PALETTE[2],
        )
    if lonely:
        built["loneliness"] = charts.paired_bars(
            "Ensomhedsscore (3–9) ved henvisningen og efter 12 uger",
            [
                (f"Score {score}", lonely["referral"]["scores"][score], lonely["week_12"]["scores"][score])
                for score in lonely["referral"]["scores"]
            ],
            ("Ved henvisningen", "Efter 12 uger"),
        )
    return built


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} dage".replace(".", ",")


def number(value: int | None) -> str:
    return "<5" if value is None else f"{value:,}".replace(",", ".")


def change(value: float | None) -> str:
    """A mean change in score points with its sign, Danish decimal comma; '–' when hidden."""
    return "–" if value is None else f"{value:+.1f}".replace(".", ",").replace("-", "−")


# The blocks of base.html an embedding client shows: the lead paragraph, then the content.
EMBEDDED_BLOCKS = ("lead", "main")


def _page(template: str, *, embedded: bool, **values: object) -> str:
    place = profile()
    compiled = _env.get_template(template)
    values = {"programme": place.programme, "municipality": place.municipality, **values}
    if not embedded:
        return compiled.render(values)
    context = compiled.new_context(values)
    return "".join(chunk for block in EMBEDDED_BLOCKS for chunk in compiled.blocks[block](context))


def render_dashboard(
    snapshot_id: str,
    label: str,
    computed_at: datetime,
    content: dict[str, Any],
    history: list[Listed],
    *,
    embedded: bool = False,
) -> str:
    periods = {name: disclose(metrics, suppress=True) for name, metrics in content["periods"].items()}
    main = periods["all_time"]
    return _page(
        "dashboard.html",
        embedded=embedded,
        snapshot_id=snapshot_id,
        label=label,
        computed_at=local(computed_at).strftime("%d.%m.%Y kl. %H:%M"),
        periods=periods,
        main=main,
        charts=_charts(main, content.get("monthly", []), content.get("needs_by_area", {})),
        history=[(entry.snapshot_id, local(entry.computed_at).strftime("%d.%m.%Y %H:%M")) for entry in history],
        percent=percent,
        days=days,
        number=number,
        change=change,
        labels=labels,
        loneliness_scale=profile().loneliness_scale,
    )


def render_no_snapshot(next_due: datetime, *, embedded: bool = False) -> str:
    """The page before the first snapshot: when the next nightly one is due, in Copenhagen."""
    return _page("no_snapshot.html", embedded=embedded, next_due=local(next_due).strftime("%d.%m.%Y kl. %H:%M"))
