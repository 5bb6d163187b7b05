"""An erased citizen in the analytics, on SQLite and PostgreSQL: their attributes and their
referrals' loneliness scores are forgotten for good, whatever order the events come in, and
their referrals still count as the metric definitions say (they are pseudonymous referral
facts): in the referrals, stages and cascade, but no longer in the loneliness section (no
score), the equity breakdown or the cross-area share (no attributes)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.analytics import replay, store, upsert
from services.analytics.domain import Period
from services.analytics.metrics import compute
from shared.db import Database
from shared.events import Envelope, Event
from shared.events import catalogue as cat
from shared.events import referrals as ref
from tests.helpers import publish
from tests.integration.analytics.worked import project

AS_OF = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
GONE = ("r-gone-1", "r-gone-2")


def _e(event: Event, day: str, hour: int = 10) -> Envelope:
    return Envelope.wrap(event, source="/test/erasure", time=datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC))


def _scored(referral_id: str, citizen: str, day: str, before: int, after: int | None) -> list[Envelope]:
    events = [
        _e(
            ref.ReferralCreated(
                referral_id=referral_id, citizen_ref=citizen, community_id="com-1", referrer_id="prof-1"
            ),
            day,
        ),
        _e(ref.LonelinessMeasured(referral_id=referral_id, moment="referral", score=before), day, 11),
        _e(ref.WelcomeConfirmed(referral_id=referral_id, community_id="com-1", confirmed_by="contact-1"), day, 12),
    ]
    if after is not None:
        events.append(_e(ref.LonelinessMeasured(referral_id=referral_id, moment="week_12", score=after), "2025-06-20"))
    return events


def history() -> list[Envelope]:
    """A guide, a professional, a community in Nord; cit-gone (in Syd) with two welcomed and
    scored referrals, cit-kept (in Syd) with one; cit-gone is erased in July. Then, after the
    erasure in event time: a late score for one of cit-gone's referrals, and a third referral
    of theirs, back-dated and scored, whose ReferralCreated arrives last of all."""
    late = [
        _e(ref.LonelinessMeasured(referral_id="r-gone-3", moment="referral", score=9), "2025-03-20", 11),
        _e(ref.LonelinessMeasured(referral_id="r-gone-2", moment="week_12", score=3), "2025-07-15"),
        _e(
            ref.ReferralCreated(
                referral_id="r-gone-3", citizen_ref="cit-gone", community_id="com-1", referrer_id="prof-1"
            ),
            "2025-03-20",
        ),
    ]
    return [
        _e(ref.ReferrerActivated(actor_id="guide-1", role="guide"), "2025-01-02"),
        _e(
            ref.ReferrerActivated(actor_id="prof-1", role="professional", sector="health", activated_by="guide-1"),
            "2025-01-03",
        ),
        _e(
            cat.CommunityRegistered(
                community_id="com-1",
                organization_id="org-1",
                name="Strikkeklubben",
                categories=["kreativ"],
                area="Nord",
                kind="permanent",
                accepts_special_needs=True,
                capacity_total=10,
            ),
            "2025-01-02",
        ),
        _e(ref.CitizenRegistered(citizen_ref="cit-gone", area="Syd", target_groups=["mental_health"]), "2025-03-01"),
        _e(ref.CitizenRegistered(citizen_ref="cit-kept", area="Syd", target_groups=["mental_health"]), "2025-03-01"),
        *_scored("r-gone-1", "cit-gone", "2025-03-03", 8, 6),
        *_scored("r-gone-2", "cit-gone", "2025-03-04", 9, None),
        *_scored("r-kept", "cit-kept", "2025-03-05", 7, 5),
        _e(ref.CitizenErased(citizen_ref="cit-gone"), "2025-07-01"),
        *late,
    ]


def rows(db: Database) -> dict[str, tuple[Any, ...]]:
    with db.read() as session:
        found = session.scalars(select(store.Referral).order_by(store.Referral.referral_id))
        return {
            r.referral_id: (
                r.loneliness_referral_us,
                r.loneliness_referral,
                r.loneliness_week_12_us,
                r.loneliness_week_12,
                r.citizen_erased_us is not None,
            )
            for r in found
        }


def metrics(db: Database) -> dict[str, Any]:
    with db.read() as session:
        return compute(store.load_snapshot(session, AS_OF), Period(), AS_OF)


def check(db: Database) -> None:
    projected = rows(db)
    for referral_id in (*GONE, "r-gone-3"):
        assert projected[referral_id] == (None, None, None, None, True), referral_id
    kept = projected["r-kept"]
    assert (kept[1], kept[3], kept[4]) == (7, 5, False)

    with db.read() as session:
        citizen = session.get(store.Citizen, "cit-gone")
        assert citizen is not None and citizen.erased_us is not None
        assert (citizen.area, citizen.target_groups, citizen.age_band, citizen.registered_us) == (
            None,
            None,
            None,
            None,
        )

    m = metrics(db)
    # The referrals still count, everywhere the definitions count referrals or citizens.
    assert (m["referrals"]["created"], m["referrals"]["welcomed"]) == (4, 3)
    assert m["cascade"]["referrals_by_generation"] == {"1": 4}
    assert m["cascade"]["reach_by_guide"] == {"guide-1": 2}  # distinct citizens, cit-gone among them
    # Their scores are gone: the loneliness section is cit-kept's alone.
    assert m["loneliness"]["referral"]["measured"] == 1 and m["loneliness"]["referral"]["scores"]["7"] == 1
    assert (m["loneliness"]["paired"], m["loneliness"]["mean_change"]) == (1, -2.0)
    # No attributes: cit-gone is not in the equity breakdown, nor in the cross-area share.
    assert m["equity"]["by_target_group"] == {"mental_health": {"referred": 1, "welcomed": 1}}
    assert m["areas"]["cross_area_share"] == 1.0  # cit-kept's Syd against Nord


@pytest.mark.parametrize("batch", [1, 4, 500])
def test_an_erased_citizens_scores_are_forgotten_in_any_order(db: Database, batch: int) -> None:
    events = history()
    project(db, events, batch=batch)
    check(db)

    # Shuffled, with redeliveries: the erasure first, scores after it, the referral last…
    for seed in (1, 2):
        shuffled = events + events[:10]
        random.Random(seed).shuffle(shuffled)
        with db.transaction() as session:
            upsert.clear(session)
        project(db, shuffled, batch=batch)
        check(db)

    # The erasure again (redelivered, or a second one later) changes nothing.
    before = rows(db)
    project(db, [_e(ref.CitizenErased(citizen_ref="cit-gone"), "2025-08-01")], batch=1)
    assert rows(db) == before


def test_before_the_erasure_the_scores_count(db: Database) -> None:
    """The same history up to the erasure: the scores are there (so the test above can fail)."""
    erasure = next(i for i, e in enumerate(history()) if e.type.endswith("CitizenErased.v1"))
    project(db, history()[:erasure], batch=500)
    assert metrics(db)["loneliness"]["referral"]["measured"] == 3
    assert rows(db)["r-gone-1"][1:4:2] == (8, 6)


async def test_a_rebuild_from_the_streams_forgets_them_too(nats_clean: str, db: Database) -> None:
    await publish(nats_clean, *history())
    report = await replay.rebuild(db, nats_clean)
    assert report.events == len(history()) and report.skipped == 0
    check(db)
