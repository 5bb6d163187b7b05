"""The Danish dashboard: a stored snapshot, disclosure-controlled, as one self-contained page
with server-side SVG charts (works offline, prints on A4)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.analytics import charts
from services.analytics.domain import LOCAL, disclose

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

ROLE_DA = {"guide": "Fællesskabsguides", "professional": "Fagpersoner", "ambassador": "Ambassadører"}
REASON_DA = {"full": "Fuldt hold", "not_suitable": "Passer ikke", "no_contact": "Ingen kontakt", "other": "Andet"}
OUTREACH_DA = {
    "postcards": "Postkort",
    "website_visit": "Besøg på hjemmesiden",
    "info_meeting": "Infomøder",
    "door_to_door": "Dør-til-dør",
}
WORDS_DA = {
    "unemployed": "Ledige",
    "mental_health": "Psykisk sårbare",
    "elderly_alone": "Ældre, der bor alene",
    "new_in_denmark": "Nye i Danmark",
    "disability": "Handicap",
    "young_adults": "Unge voksne",
    "single_parents": "Enlige forsørgere",
    "health": "Sundhed",
    "jobcenter": "Jobcenter",
    "library": "Bibliotek",
    "housing": "Boligsocialt",
    "social_psychiatry": "Socialpsykiatri",
    "gp": "Praktiserende læge",
    "school": "Skole",
    "business": "Erhverv",
    "volunteer": "Frivillig",
    "civil_society": "Civilsamfund",
    "social": "Socialt samvær",
    "sports": "Idræt",
    "culture": "Kultur",
    "nature": "Natur",
    "crafts": "Kreativt",
    "food": "Mad og fællesspisning",
    "learning": "Læring",
    "music": "Musik",
    "transport": "Transport",
    "companionship": "Følgeskab",
}


def short_month(month: str) -> str:
    """'2024-03' -> '03/24': fits under a column."""
    return f"{month[5:7]}/{month[2:4]}"


def da(word: str) -> str:
    return WORDS_DA.get(word, word.replace("_", " ").capitalize())


def _charts(
    metrics: dict[str, Any], monthly: list[dict[str, Any]], needs_by_area: dict[str, dict[str, int]]
) -> dict[str, Markup]:
    r, acc, cas = metrics["referrals"], metrics["accompaniment"], metrics["cascade"]
    refs, equity, cap = metrics["referrers"], metrics["equity"], metrics["capacity"]
    seen = {g for m in monthly for g in m["referrals_by_generation"]} | set(cas["referrals_by_generation"])
    generations = sorted(seen, key=int)
    gen_label = {g: ("Guides (gen. 0)" if g == "0" else f"Generation {g}") for g in generations}
    gen_label["u"] = "Uden tilknytning"
    columns = [
        (short_month(m["month"]), {**m["referrals_by_generation"], "u": m["unattributed_referrals"]}) for m in monthly
    ]
    built = {
        "funnel": charts.hbar(
            "Tragten: fra henvisning til fællesskab",
            [
                ("Oprettet", r["created"]),
                ("Accepteret", r["accepted"]),
                ("Fulgt derhen", r["accompanied"]),
                ("Budt velkommen", r["welcomed"]),
                ("Deltager stadig (4 uger)", r["participating_4w"]),
                ("Deltager stadig (12 uger)", r["participating_12w"]),
            ],
        ),
        "generations": charts.hbar(
            "Henvisninger pr. generation i kaskaden",
            [
                *((gen_label[g], n) for g, n in cas["referrals_by_generation"].items()),
                ("Uden tilknytning", cas["unattributed_referrals"]),
            ],
            color=charts.PALETTE[3],
        ),
        "growth": charts.stacked_columns("Kaskadens vækst pr. måned", columns, [*generations, "u"], gen_label),
        "sustainment": charts.line(
            "Selvbærende over tid: andel henvisninger fra andre end guiderne",
            [(short_month(m["month"]), m["self_sustainment"]) for m in monthly],
        ),
        "by_role": charts.hbar(
            "Henvisninger pr. rolle", [(ROLE_DA.get(k, k), v) for k, v in refs["referrals_by_role"].items()]
        ),
        "by_sector": charts.hbar(
            "Henvisninger pr. sektor",
            [(da(k), v) for k, v in refs["referrals_by_sector"].items()],
            color=charts.PALETTE[1],
        ),
        "accompaniment": charts.hbar(
            "Følgeskabsgabet",
            [
                ("Har brug for følgeskab", acc["needed"]),
                ("Følgeskab aftalt", acc["arranged"]),
                ("Fulgt derhen", acc["accompanied"]),
                ("Gab: ikke fulgt", acc["gap"]),
            ],
            color=charts.PALETTE[4],
        ),
        "equity": charts.paired_bars(
            "Rækkevidde i målgrupperne (antal borgere)",
            [(da(g), cell["referred"], cell["welcomed"]) for g, cell in equity["by_target_group"].items()],
            ("Henvist", "Budt velkommen"),
        ),
        "rejections": charts.hbar(
            "Afviste henvisninger pr. årsag",
            [(REASON_DA.get(k, k), v) for k, v in cap["rejections_by_reason"].items()],
            color=charts.PALETTE[4],
        ),
        "needs": charts.hbar(
            "Uopfyldte behov pr. kategori",
            [(da(k), v) for k, v in cap["unmet_needs_by_category"].items()],
            color=charts.PALETTE[5],
        ),
        "needs_area": charts.hbar(
            "Uopfyldte behov pr. boligområde",
            [(area, sum(c.values())) for area, c in sorted(needs_by_area.items())],
            color=charts.PALETTE[5],
        ),
        "areas": charts.hbar(
            "Budt velkommen pr. boligområde (fællesskabets område)",
            list(metrics["areas"]["welcomed_by_area"].items()),
            color=charts.PALETTE[2],
        ),
        "outreach": charts.hbar(
            "Opsøgende arbejde",
            [(OUTREACH_DA.get(k, k), v) for k, v in metrics["outreach"].items()],
            color=charts.PALETTE[6],
        ),
    }
    return {k: Markup(v) for k, v in built.items()}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} dage".replace(".", ",")


def number(value: int | None) -> str:
    return "<5" if value is None else f"{value:,}".replace(",", ".")


def render_dashboard(
    snapshot_id: str,
    label: str,
    computed_at: datetime,
    content: dict[str, Any],
    history: list[tuple[str, str, datetime]],
) -> str:
    periods = {name: disclose(m, suppress=True) for name, m in content["periods"].items()}
    main = periods["all_time"]
    return _env.get_template("dashboard.html").render(
        snapshot_id=snapshot_id,
        label=label,
        computed_at=computed_at.astimezone(LOCAL).strftime("%d.%m.%Y kl. %H:%M"),
        periods=periods,
        main=main,
        charts=_charts(main, content.get("monthly", []), content.get("needs_by_area", {})),
        history=[(sid, lbl, at.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M")) for sid, lbl, at in history],
        percent=percent,
        days=days,
        number=number,
        role_da=ROLE_DA,
    )
