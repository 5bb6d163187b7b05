"""The dashboard's readiness and loneliness sections: Danish labels from the profile, hidden
small cells, and a clear sentence when there are no scores or the scale is not in use."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.analytics import assemble, dashboard
from services.analytics.columns import ActorColumns, ReadinessRow, ReferralColumns, Tables, columns_of
from services.analytics.dashboard import render_dashboard
from services.analytics.domain import LONELINESS_BASE, citizen_key, nightly_periods, to_us
from services.analytics.metrics import compute
from shared.profile import profile

AS_OF = datetime(2024, 7, 1, 1, 0, tzinfo=UTC)
EARLIER = to_us(datetime(2024, 6, 1, 9, 0, tzinfo=UTC))


def content(scores: bool = True) -> dict[str, Any]:
    """Six job-centre professionals, all trained; three health-centre ones, aware; five
    ambassadors. Six referrals scored 8 at the referral and 6 at week 12."""
    actors: list[tuple[str, str, str | None, None, None, int]] = [
        (f"job-{n}", "professional", "job_centre", None, None, EARLIER) for n in range(6)
    ]
    actors += [(f"hc-{n}", "professional", "health_centre", None, None, EARLIER) for n in range(3)]
    actors += [(f"amb-{n}", "ambassador", None, None, None, EARLIER) for n in range(5)]
    readiness = [ReadinessRow(f"job-{n}", None, EARLIER, None, None) for n in range(6)]
    readiness += [ReadinessRow(f"hc-{n}", EARLIER, None, None, None) for n in range(3)]
    code = 8 + LONELINESS_BASE * 6 if scores else 0
    referrals = [(EARLIER, citizen_key(f"cit-{n}"), "com-1", "job-0", 0, 0, None, None, code) for n in range(6)]
    tables = replace(
        Tables.empty(to_us(AS_OF)),
        actors=columns_of(ActorColumns, actors),
        readiness=readiness,
        referrals=columns_of(ReferralColumns, referrals),
    )
    snapshot = assemble.build(tables)
    return {"periods": {name: compute(snapshot, period, AS_OF) for name, period in nightly_periods(AS_OF).items()}}


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_the_readiness_funnel_has_the_profile_labels_and_hides_small_rows() -> None:
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, content(), [])
    funnel = section(html, "parathed")
    for words in ("Parathed hos vejviserne", "Jobcenter", "Sundhedscenter", "Ambassadører", "Uddannet", "Har henvist"):
        assert words in funnel
    assert "job_centre" not in funnel and "health_centre" not in funnel
    # Jobcenter: 6 activated, 6 aware, 6 trained; Sundhedscenter's 3 are hidden.
    assert '<td>Jobcenter</td><td class="n">6</td><td class="n">6</td><td class="n">6</td>' in funnel
    assert '<td>Sundhedscenter</td><td class="n">&lt;5</td><td class="n">&lt;5</td>' in funnel
    assert '<th>I alt</th><th class="n">14</th>' in funnel


def test_loneliness_before_and_after() -> None:
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, content(), [])
    lonely = section(html, "ensomhed")
    assert "Ensomhed før og efter" in lonely
    assert "Ensomhedsscore (3–9) ved henvisningen og efter 12 uger" in lonely
    assert "Målt begge gange: <strong>6</strong>" in lonely
    assert "<strong>−2,0</strong>" in lonely  # 6 - 8 for each of the six
    assert "100 %" in lonely and "0 %" in lonely  # scored 7 or more: all before, none after


def test_no_scores_says_so() -> None:
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, content(scores=False), [])
    assert profile().loneliness_scale
    assert "Der er endnu ingen målinger af ensomhed" in section(html, "ensomhed")


def test_a_municipality_without_the_scale_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    without = profile().model_copy(update={"loneliness_scale": False})
    monkeypatch.setattr(dashboard, "profile", lambda: without)
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, content(scores=False), [])
    assert "Kommunen bruger ikke ensomhedsskalaen" in section(html, "ensomhed")


def test_a_snapshot_from_before_the_followup_metrics_still_renders() -> None:
    body = content()
    for metrics in body["periods"].values():
        for key in ("readiness", "loneliness"):
            del metrics[key]
        del metrics["referrals"]["no_show"]
        del metrics["cascade"]["generations"]
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, body, [])
    assert "før parathed kom med i tallene" in section(html, "parathed")
