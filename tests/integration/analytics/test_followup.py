"""The loops after the referral in the metrics (issue 12), on SQLite and PostgreSQL: the
readiness funnel, loneliness per cohort, no-shows and the follow-up's participation, both
projected event by event in any order and rebuilt from a real nats-server's streams."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from services.analytics import replay, store, upsert
from services.analytics.domain import Period, disclose
from services.analytics.main import build
from services.analytics.metrics import compute
from services.analytics.settings import AnalyticsSettings
from shared.db import Database
from shared.events import Envelope, Event
from shared.events import referrals as ref
from tests.helpers import ServedApp, eventually, publish, token
from tests.integration.analytics.worked import project

AS_OF = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
SPRING = Period(date(2025, 3, 1), date(2025, 5, 31))


def _e(event: Event, day: str, hour: int = 10) -> Envelope:
    return Envelope.wrap(
        event, source="/test/followup", time=datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
    )


def _referral(number: int, referrer: str, day: str) -> Envelope:
    return _e(
        ref.ReferralCreated(
            referral_id=f"r{number}", citizen_ref=f"cit-{number}", community_id="com-1", referrer_id=referrer
        ),
        day,
    )


def history() -> list[Envelope]:
    """job_centre: 5 professionals, all aware, all trained (3 by a recorded training only),
    3 referred (no ReadinessRecorded says so). library: 3 professionals, aware. Ambassadors:
    5 activated, 1 recorded as accompanying (and so every level below), 1 accompanied a citizen
    as companion. 12 referrals in the spring, scored on the loneliness scale."""
    events = [_e(ref.ReferrerActivated(actor_id="guide-1", role="guide"), "2025-01-02")]
    for n in range(5):
        job = f"job-{n}"
        events += [
            _e(
                ref.ReferrerActivated(actor_id=job, role="professional", sector="job_centre", activated_by="guide-1"),
                "2025-01-06",
            ),
            _e(ref.ReadinessRecorded(actor_id=job, level="aware"), "2025-01-07"),
        ]
        if n < 3:
            events.append(
                _e(ref.TrainingRecorded(actor_id=job, trained_on=date(2025, 1, 20), topic="introduction"), "2025-01-20")
            )
        else:
            events.append(_e(ref.ReadinessRecorded(actor_id=job, level="trained"), "2025-01-21"))
        events.append(_e(ref.ReferrerActivated(actor_id=f"amb-{n}", role="ambassador", activated_by=job), "2025-02-01"))
    for n in range(3):
        lib = f"lib-{n}"
        events += [
            _e(
                ref.ReferrerActivated(actor_id=lib, role="professional", sector="library", activated_by="guide-1"),
                "2025-01-06",
            ),
            _e(ref.ReadinessRecorded(actor_id=lib, level="aware"), "2025-01-08"),
        ]
    events.append(_e(ref.ReadinessRecorded(actor_id="amb-0", level="accompanying"), "2025-02-10"))
    # A readiness recorded after the period: not in the spring's funnel.
    events.append(_e(ref.ReadinessRecorded(actor_id="lib-0", level="trained"), "2025-06-15"))

    # Referrals r0..r11 in the spring by job-0..job-2; scores at the referral for r0..r8:
    # five 8s, three 7s, one 4. At week 12 for r0..r4: 6, 6, 6, 5, 5 (paired: r0..r4, all 8 before).
    before = [8, 8, 8, 8, 8, 7, 7, 7, 4]
    after = [6, 6, 6, 5, 5]
    for n in range(12):
        events.append(_referral(n, f"job-{n % 3}", f"2025-03-{n + 3:02d}"))
    for n, score in enumerate(before):
        events.append(
            _e(ref.LonelinessMeasured(referral_id=f"r{n}", moment="referral", score=score), f"2025-03-{n + 3:02d}", 11)
        )
    for n, score in enumerate(after):
        events += [
            _e(
                ref.WelcomeConfirmed(referral_id=f"r{n}", community_id="com-1", confirmed_by="contact-1"),
                f"2025-03-{n + 10:02d}",
            ),
            _e(ref.LonelinessMeasured(referral_id=f"r{n}", moment="week_12", score=score), "2025-06-10"),
        ]
    # A later measurement's second copy of the same moment does not replace the first.
    events.append(_e(ref.LonelinessMeasured(referral_id="r0", moment="week_12", score=9), "2025-06-20"))
    # The follow-up: r0 still participates after 4 weeks ("ja"), r1 not after 12 ("nej").
    events += [
        _e(ref.ParticipationConfirmed(referral_id="r0", weeks_after=4, still_participating=True), "2025-04-10"),
        _e(ref.ParticipationConfirmed(referral_id="r1", weeks_after=12, still_participating=False), "2025-06-05"),
        _e(
            ref.FirstVisitProposed(
                referral_id="r10", visit_at=datetime(2025, 3, 20, 9, tzinfo=UTC), proposed_by="community:com-1"
            ),
            "2025-03-14",
        ),
        _e(ref.NoShowReported(referral_id="r10", reported_by="community:com-1"), "2025-03-21"),
        _e(ref.CitizenAccompanied(referral_id="r11", companion_id="amb-1"), "2025-03-16"),
    ]
    return events


def metrics(db: Database, period: Period) -> dict[str, Any]:
    with db.read() as session:
        return compute(store.load_snapshot(session, AS_OF), period, AS_OF)


def check_spring(m: dict[str, Any]) -> None:
    r = m["referrals"]
    assert (r["created"], r["welcomed"], r["no_show"]) == (12, 5, 1)
    # Participation counts a "ja" (still participating), never a "nej".
    assert (r["participating_4w"], r["participating_12w"]) == (1, 0)

    assert m["readiness"] == {
        "by_sector": {
            "job_centre": {"activated": 5, "aware": 5, "trained": 5, "referring": 3, "accompanying": 0},
            "library": {"activated": 3, "aware": 3, "trained": 0, "referring": 0, "accompanying": 0},
            # amb-0 recorded as accompanying; amb-1 accompanied r11 as companion.
            "ambassador": {"activated": 5, "aware": 2, "trained": 2, "referring": 2, "accompanying": 2},
        },
        "total": {"activated": 13, "aware": 10, "trained": 7, "referring": 5, "accompanying": 2},
    }

    lonely = m["loneliness"]
    assert lonely["referral"] == {
        "measured": 9,
        "scores": {"3": 0, "4": 1, "5": 0, "6": 0, "7": 3, "8": 5, "9": 0},
        "lonely_share": pytest.approx(8 / 9),
    }
    assert lonely["week_12"] == {
        "measured": 5,
        "scores": {"3": 0, "4": 0, "5": 2, "6": 3, "7": 0, "8": 0, "9": 0},
        "lonely_share": 0.0,
    }
    # (6 - 8) * 3 + (5 - 8) * 2 = -12 over 5 paired.
    assert (lonely["paired"], lonely["mean_change"]) == (5, pytest.approx(-2.4))


def check_disclosure(m: dict[str, Any]) -> None:
    shown = disclose(m, suppress=True)
    funnel = shown["readiness"]["by_sector"]
    # A cell of 3 is hidden, a cell of 5 shown (zeros too).
    assert funnel["job_centre"] == {"activated": 5, "aware": 5, "trained": 5, "referring": None, "accompanying": 0}
    assert funnel["library"] == {"activated": None, "aware": None, "trained": 0, "referring": 0, "accompanying": 0}
    assert shown["readiness"]["total"] == m["readiness"]["total"]
    lonely = shown["loneliness"]
    assert lonely["referral"]["scores"] == {"3": 0, "4": None, "5": 0, "6": 0, "7": None, "8": 5, "9": 0}
    assert lonely["week_12"]["scores"]["6"] is None and lonely["week_12"]["measured"] == 5
    assert (lonely["paired"], lonely["mean_change"]) == (5, pytest.approx(-2.4))  # base of 5: shown
    assert "readiness.by_sector.job_centre.referring" in shown["suppressed"]
    assert "loneliness.referral.scores.7" in shown["suppressed"]


def test_followup_metrics_in_any_order(db: Database) -> None:
    events = history()
    project(db, events, batch=1)
    spring = metrics(db, SPRING)
    check_spring(spring)
    check_disclosure(spring)
    # lib-0 was trained in June: all time sees it; the spring's funnel did not.
    assert metrics(db, Period())["readiness"]["by_sector"]["library"]["trained"] == 1

    shuffled = events + events[:20]  # some redelivered
    random.Random(12).shuffle(shuffled)
    with db.transaction() as session:
        upsert.clear(session)
    project(db, shuffled, batch=9)
    assert metrics(db, SPRING) == spring


def test_a_period_without_scores_has_no_loneliness_section(db: Database) -> None:
    project(db, history(), batch=500)
    winter = metrics(db, Period(date(2025, 1, 1), date(2025, 2, 28)))
    assert winter["loneliness"] is None
    assert disclose(winter, suppress=True)["loneliness"] is None


async def test_rebuilt_from_the_streams(nats_clean: str, db: Database) -> None:
    await publish(nats_clean, *history())
    report = await replay.rebuild(db, nats_clean)
    assert report.events == len(history()) and report.skipped == 0
    check_spring(metrics(db, SPRING))


async def test_live_consumers_and_the_api(nats_clean: str, tmp_path: Path) -> None:
    await publish(nats_clean, *history())
    config = AnalyticsSettings(
        database_url=f"sqlite:///{tmp_path / 'live.db'}", nats_url=nats_clean, relay_interval_seconds=0.05
    )
    spring = {"from": "2025-03-01", "to": "2025-05-31"}
    async with (
        ServedApp(build(config)) as served,
        served.client(token("analyst")) as analyst,
        served.client(token("admin")) as admin,
    ):

        async def caught_up() -> bool:
            body = (await admin.get("/v1/metrics", params={**spring, "suppress": "false"})).json()
            try:
                check_spring(body)  # every event projected by the live consumer
            except AssertionError:
                return False
            return True

        await eventually(caught_up, timeout=20)
        shown = (await analyst.get("/v1/metrics", params=spring)).json()
        assert shown["referrals"]["no_show"] == 1 and shown["referrals"]["participating_4w"] == 1
        assert shown["readiness"]["by_sector"]["job_centre"]["referring"] is None  # 3: hidden
        assert shown["readiness"]["by_sector"]["job_centre"]["trained"] == 5
        assert shown["cascade"]["generations"][0] == {
            "generation": 0,
            "referrers": 1,
            "referrals": 0,
            "branching_factor": 0.0,  # guide-1 activated everyone in January, before the spring
        }
        rows = dict(csv.reader(io.StringIO((await analyst.get("/v1/metrics.csv", params=spring)).text)))
        assert rows["readiness.by_sector.job_centre.referring"] == ""
        assert rows["readiness.by_sector.ambassador.activated"] == "5"
        assert rows["loneliness.paired"] == "5" and rows["loneliness.mean_change"] == "-2.4"
        assert rows["loneliness.referral.scores.7"] == ""
        assert rows["cascade.generations.1.referrals"] == "12"
