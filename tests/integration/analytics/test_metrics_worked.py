"""Every metric of metrics.md on a hand-built history (worked.py), through the projection
store on SQLite and PostgreSQL. The expected numbers are worked out in the comments."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from services.analytics import store, upsert
from services.analytics.domain import Period, disclose
from services.analytics.metrics import compute
from shared.db import Database
from tests.integration.analytics.worked import AS_OF, history, project

H1 = Period(date(2024, 1, 1), date(2024, 6, 30))


def metrics(db: Database, period: Period) -> dict[str, Any]:
    with db.transaction() as session:
        return compute(store.load_snapshot(session, AS_OF), period, AS_OF)


def test_first_half_of_2024(db: Database) -> None:
    project(db, history(), batch=1)  # one event per transaction, as the live consumers do
    m = metrics(db, H1)

    # Cohort: r1..r5 (r6 was created 00:30 on 1 July in Copenhagen).
    assert m["period"] == {"from": "2024-01-01", "to": "2024-06-30"}
    r = m["referrals"]
    assert (r["created"], r["accepted"], r["accompanied"], r["welcomed"]) == (5, 1, 1, 3)
    assert (r["participating_4w"], r["participating_12w"], r["rejected"], r["cancelled"]) == (1, 0, 1, 1)
    assert r["welcome_rate"] == pytest.approx(3 / 5)
    # Days to welcome: r5 30 min (back-dated welcome) = 1/48, r2 2, r1 5.
    # Median 2; p90 at rank 0.9 * 2 = 1.8 -> 2 + 0.8 * (5 - 2) = 4.4.
    assert r["time_to_welcome_days"]["median"] == pytest.approx(2.0)
    assert r["time_to_welcome_days"]["p90"] == pytest.approx(4.4)

    # Needed: r2, r4; arranged: both; accompanied: r2.
    assert m["accompaniment"] == {"needed": 2, "arranged": 2, "accompanied": 1, "gap": 1}

    c = m["cascade"]
    # prof-1 gen 1 (first activation by guide-a); amb-1 gen 2; amb-c = cit-1's generation =
    # prof-1 + 1 = 2; prof-x unattributed. r1 g1, r2 g2, r3 -, r4 g0, r5 g2.
    assert c["referrals_by_generation"] == {"0": 1, "1": 1, "2": 2}
    assert c["unattributed_referrals"] == 1
    assert c["self_sustainment"] == pytest.approx(4 / 5)
    # Welcomed citizens: cit-1 (via prof-1) gen 2, cit-2 (first referral r2 via amb-c) gen 3,
    # cit-4 (via amb-1) gen 3.
    assert c["max_depth"] == 3
    assert c["actors_by_generation"] == {"0": 2, "1": 1, "2": 2}
    # g0: activated prof-1 (1) + guide-a referred cit-2 (1), / 2 guides = 1.0
    # g1: activated amb-1 (1) + prof-1 referred cit-1 (1), / 1 = 2.0
    # g2: no activations; amb-c referred cit-2, amb-1 referred cit-4, / 2 = 1.0
    assert c["branching_factor_by_generation"] == {"0": 1.0, "1": 2.0, "2": 1.0}
    # cit-1, cit-2 and cit-4 were welcomed through referrers descending from guide-a.
    assert c["reach_by_guide"] == {"guide-a": 3, "guide-b": 0}

    f = m["referrers"]
    # In the 30 days up to the end of 30 June only amb-1 referred (r6 falls on 1 July).
    assert f["active_30d"] == 1
    # Activated before 2 May with no referral since: prof-1, amb-c, prof-x (amb-1 referred r5).
    assert f["dormant_60d"] == 3
    assert f["referrals_by_role"] == {"guide": 1, "professional": 2, "ambassador": 2}
    assert f["referrals_by_sector"] == {"health": 1, "library": 1, "volunteer": 1}

    # cit-3 was erased: its target group is gone, its referral still counts above.
    assert m["equity"]["by_target_group"] == {
        "mental_health": {"referred": 1, "welcomed": 1},
        "unemployed": {"referred": 3, "welcomed": 3},
    }
    # com-1 is in Nord (the later update wins although it arrived first); com-2 in Syd.
    assert m["areas"]["welcomed_by_area"] == {"Nord": 2, "Syd": 1}
    # r1 Nord->Nord, r2 Nord->Syd, r5 Syd->Nord.
    assert m["areas"]["cross_area_share"] == pytest.approx(2 / 3)

    cap = m["capacity"]
    assert cap["communities_full"] == 1  # com-1 full at the period end (open again on 1 July)
    assert cap["rejections_by_reason"] == {"full": 1, "not_suitable": 0, "no_contact": 0, "other": 0}
    assert cap["unmet_needs_by_category"] == {"crafts": 1, "transport": 1}

    assert m["practice_tracks"] == {"participants": 1, "bridged": 1, "bridging_rate": 1.0}
    assert m["outreach"] == {"postcards": 20, "website_visit": 100, "info_meeting": 0, "door_to_door": 0}

    # Readiness with no ReadinessRecorded at all: every referrer who referred counts as
    # referring (and so aware and trained); amb-1 also accompanied r2 as companion. prof-1
    # (health), prof-x (library), amb-1 and amb-c (ambassadors, whatever their sector).
    assert m["readiness"] == {
        "by_sector": {
            "health": {"activated": 1, "aware": 1, "trained": 1, "referring": 1, "accompanying": 0},
            "library": {"activated": 1, "aware": 1, "trained": 1, "referring": 1, "accompanying": 0},
            "ambassador": {"activated": 2, "aware": 2, "trained": 2, "referring": 2, "accompanying": 1},
        },
        "total": {"activated": 4, "aware": 4, "trained": 4, "referring": 4, "accompanying": 1},
    }
    assert m["loneliness"] is None  # nobody was asked the loneliness scale
    assert r["no_show"] == 0
    # The cascade one generation a row: the same numbers as the three maps above.
    assert c["generations"] == [
        {"generation": 0, "referrers": 2, "referrals": 1, "branching_factor": 1.0},
        {"generation": 1, "referrers": 1, "referrals": 1, "branching_factor": 2.0},
        {"generation": 2, "referrers": 2, "referrals": 2, "branching_factor": 1.0},
    ]


def test_all_time_and_disclosure(db: Database) -> None:
    project(db, history(), batch=1000)
    m = metrics(db, Period())
    assert m["period"] == {"from": None, "to": None}
    assert m["referrals"]["created"] == 6
    # The period end is as_of (1 July 12:00 UTC): r5 and r6 are in the last 30 days.
    assert m["referrers"]["active_30d"] == 2
    assert m["capacity"]["communities_full"] == 0  # com-1 reopened on 1 July
    assert m["capacity"]["unmet_needs_by_category"] == {"crafts": 1, "transport": 2}
    assert m["outreach"]["postcards"] == 25
    assert m["cascade"]["referrals_by_generation"] == {"0": 2, "1": 1, "2": 2}

    h1 = metrics(db, H1)
    shown = disclose(h1, suppress=True)
    # The 3-citizen cell (unemployed) is hidden like every cell of 1-4.
    assert shown["equity"]["by_target_group"]["unemployed"] == {"referred": None, "welcomed": None}
    assert shown["cascade"]["reach_by_guide"] == {"guide-a": None, "guide-b": 0}
    assert shown["suppressed"] == [
        "equity.by_target_group.mental_health.referred",
        "equity.by_target_group.mental_health.welcomed",
        "equity.by_target_group.unemployed.referred",
        "equity.by_target_group.unemployed.welcomed",
        "areas.welcomed_by_area.Nord",
        "areas.welcomed_by_area.Syd",
        "referrers.referrals_by_sector.health",
        "referrers.referrals_by_sector.library",
        "referrers.referrals_by_sector.volunteer",
        "cascade.reach_by_guide.guide-a",
        # The readiness funnel's rows are referrers, hidden the same way (zeros stay).
        *(
            f"readiness.by_sector.ambassador.{n}"
            for n in ("activated", "aware", "trained", "referring", "accompanying")
        ),
        *(f"readiness.by_sector.health.{n}" for n in ("activated", "aware", "trained", "referring")),
        *(f"readiness.by_sector.library.{n}" for n in ("activated", "aware", "trained", "referring")),
    ]
    assert shown["readiness"]["total"] == h1["readiness"]["total"]  # totals are never suppressed
    assert shown["referrals"] == h1["referrals"]  # totals are never suppressed
    assert disclose(h1, suppress=False)["suppressed"] == []


def test_order_batching_and_redelivery_do_not_change_the_metrics(db: Database) -> None:
    events = history()
    project(db, events, batch=1)
    reference = metrics(db, H1)
    shuffled = events[:] + events[:10]  # some redelivered
    random.Random(7).shuffle(shuffled)
    project(db, shuffled, batch=7)
    assert metrics(db, H1) == reference
    with db.transaction() as session:
        upsert.clear(session)
    project(db, list(reversed(events)), batch=500)
    assert metrics(db, H1) == reference


def test_erasure_removes_the_citizen_attributes(db: Database) -> None:
    project(db, history(), batch=3)
    with db.transaction() as session:
        erased = session.get(store.Citizen, "cit-3")
        assert erased is not None
        assert (erased.area, erased.age_band, erased.target_groups, erased.registered_us) == (None, None, None, None)
        kept = session.get(store.Citizen, "cit-1")
        assert kept is not None and kept.area == "Nord"
