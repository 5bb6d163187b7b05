"""The Danish dashboard speaks the profile's words: Danish labels for the codes the metrics
count by, and the programme and municipality of the profile in its header."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from services.analytics import assemble, synth
from services.analytics.columns import (
    ActorColumns,
    CitizenColumns,
    CommunityColumns,
    ReferralColumns,
    Tables,
    columns_of,
)
from services.analytics.dashboard import render_dashboard
from services.analytics.domain import citizen_key, nightly_periods, to_us
from services.analytics.metrics import compute
from services.analytics.monthly import monthly
from shared.profile import profile

AS_OF = datetime(2024, 7, 1, 1, 0, tzinfo=UTC)
CREATED = to_us(datetime(2024, 6, 1, 9, 0, tzinfo=UTC))


def content() -> dict[str, Any]:
    """Six citizens (in the target group unemployed) referred by a job-centre professional
    and welcomed in a community in the town centre."""
    citizens = [f"cit-{n}" for n in range(6)]
    tables = replace(
        Tables.empty(to_us(AS_OF)),
        actors=columns_of(
            ActorColumns,
            [
                ("guide-1", "guide", None, None, None, CREATED - 10**9),
                ("prof-1", "professional", "job_centre", "guide-1", None, CREATED - 10**8),
            ],
        ),
        citizens=columns_of(CitizenColumns, [(citizen_key(c), "benloese", "unemployed") for c in citizens]),
        referrals=columns_of(
            ReferralColumns,
            [(CREATED, citizen_key(c), "com-1", "prof-1", 0, 0, CREATED + 10**9, None, 0) for c in citizens],
        ),
        communities=columns_of(CommunityColumns, [("com-1", "ringsted_midtby", "permanent")]),
    )
    snapshot = assemble.build(tables)
    return {
        "periods": {name: compute(snapshot, period, AS_OF) for name, period in nightly_periods(AS_OF).items()},
        "monthly": monthly(snapshot, AS_OF),
        "needs_by_area": {"vestervang": {"transport": 2}},
    }


def test_the_dashboard_shows_the_profile_labels_not_the_codes() -> None:
    body = content()
    assert body["periods"]["all_time"]["referrers"]["referrals_by_sector"] == {"job_centre": 6}
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, body, [])
    for label in ("Jobcenter", "Ledige", "Ringsted midtby", "Vestervang"):
        assert label in html
    for word in ("job_centre", "unemployed", "ringsted_midtby", "vestervang", "Job centre", "Unemployment"):
        assert word not in html


def test_the_header_names_the_programme_and_municipality_of_the_profile() -> None:
    html = render_dashboard("snap-1", "nightly 2024-06-30", AS_OF, content(), [])
    header = html[html.index("<header>") : html.index("</header>")]
    assert profile().programme in header and profile().municipality in header
    assert f"<title>{profile().programme}" in html


def test_synthetic_events_use_only_the_profile_codes() -> None:
    vocabulary = profile()
    seen: Counter[str] = Counter()
    for _, _, model, fields in synth.generate(2000, seed=5):
        if "area" in fields:
            assert fields["area"] in vocabulary.area, fields
            seen["area"] += 1
        if fields.get("sector") is not None:
            assert fields["sector"] in vocabulary.sector, fields
            seen["sector"] += 1
        for group in fields.get("target_groups", []):
            assert group in vocabulary.target_group, fields
            seen["target group"] += 1
        for category in [*fields.get("categories", []), *([fields["category"]] if "category" in fields else [])]:
            assert category in vocabulary.category, (model, fields)
            seen["category"] += 1
    assert set(seen) == {"area", "sector", "target group", "category"}
