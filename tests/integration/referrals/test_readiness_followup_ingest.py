"""Readiness that moves by itself (a training, a first referral, a first accompaniment), the
referrer directory's new facts and filters, overdue follow-ups counted from the welcome, and
the new events through `POST /v1/events`: over real HTTP, NATS and SQLite + PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import Envelope, Event
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenRegistered,
    FirstVisitProposed,
    LonelinessMeasured,
    LonelinessMoment,
    NoShowReported,
    ParticipationConfirmed,
    ReferralCreated,
    TrainingRecorded,
    WelcomeConfirmed,
)
from tests.integration.referrals.support import AMB, CONTACT, GUIDE, PROF, SYSTEM, Svc, running

BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def cloudevent(event: Event, at: datetime, id_: str) -> dict[str, Any]:
    # The system states the citizen's consent, as ingestion requires for a score (shared/screening.py).
    return {
        **Envelope.wrap(event, source="/systems/jobcenter", time=at).to_dict(),
        "id": id_,
        "consentdate": "2024-01-01",
    }


async def levels(svc: Svc, actor_id: str) -> list[str]:
    """The readiness levels published for `actor_id`, in order."""
    return [
        e.data["level"] for e in await svc.events() if e.type.endswith("ReadinessRecorded.v1") and e.subject == actor_id
    ]


async def test_training_and_the_first_referral_move_readiness_up_once(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        path = "/v1/referrers/prof-mette/training"
        trained = await svc.ok(GUIDE, "POST", path, 201, json={"trained_on": "2026-11-20", "topic": "conversation"})
        assert trained["readiness"] == "trained"
        assert trained["trainings"] == [
            {"trained_on": "2026-11-20", "topic": "conversation", "topic_label": "Den gode samtale om fællesskaber"}
        ]
        # A label is taken and stored as its code; a second training says nothing new about readiness.
        second = await svc.ok(
            GUIDE, "POST", path, 201, json={"trained_on": "2026-11-27", "topic": "Følgeskab til første møde"}
        )
        assert [t["topic"] for t in second["trainings"]] == ["conversation", "accompaniment"]
        assert second["referral_count"] == 0 and second["last_referral_at"] is None

        for body, status in (
            ({"trained_on": "2026-11-20", "topic": "juggling"}, 422),
            ({"trained_on": "2099-01-01", "topic": "conversation"}, 422),
            ({"trained_on": "yesterday", "topic": "conversation"}, 422),
        ):
            assert (await svc.call(GUIDE, "POST", path, json=body)).status_code == status
        good = {"trained_on": "2026-11-20", "topic": "conversation"}
        assert (await svc.call(PROF, "POST", path, json=good)).status_code == 403
        assert (await svc.call(GUIDE, "POST", "/v1/referrers/nobody/training", json=good)).status_code == 404

        referral = await svc.referral()
        await svc.referral()  # a second referral moves nothing
        me = await svc.ok(PROF, "GET", "/v1/referrers/prof-mette")
        assert me["readiness"] == "referring" and me["referral_count"] == 2
        assert me["last_referral_at"] > referral["created_at"]

        # A companion's first accompaniment; a training after it does not move them down.
        rid = (await svc.referral(needs_accompaniment=True))["referral_id"]
        await svc.ok(PROF, "POST", f"/v1/referrals/{rid}/arrange_accompaniment", json={"companion_id": "amb-lars"})
        await svc.ok(AMB, "POST", f"/v1/referrals/{rid}/accompany")
        await svc.ok(GUIDE, "POST", "/v1/referrers/amb-lars/training", 201, json=good)
        assert (await svc.ok(GUIDE, "GET", "/v1/referrers/amb-lars"))["readiness"] == "accompanying"

        await svc.wait_events(3, type_suffix="TrainingRecorded.v1")
        await svc.wait_events(3, type_suffix="ReadinessRecorded.v1")
        assert await levels(svc, "prof-mette") == ["trained", "referring"]
        assert await levels(svc, "amb-lars") == ["accompanying"]
        trainings = await svc.wait_events(3, type_suffix="TrainingRecorded.v1")
        assert trainings[0].data == {"actor_id": "prof-mette", "trained_on": "2026-11-20", "topic": "conversation"}


async def test_the_directory_finds_by_email_readiness_and_whether_they_referred(
    database_url: str, nats_clean: str
) -> None:
    async with running(database_url, nats_clean) as svc:
        kim = {"actor_id": "prof-kim", "role": "professional", "sector": "library", "readiness": "trained"}
        await svc.ok(GUIDE, "POST", "/v1/referrers", 201, json={**kim, "contact": {"email": "Kim.Hansen@ringsted.dk"}})
        await svc.referral()

        async def ids(tok: str = GUIDE, **params: Any) -> list[str]:
            return [r["actor_id"] for r in await svc.ok(tok, "GET", "/v1/referrers", params=params)]

        assert await ids(email="kim.hansen@RINGSTED.dk") == ["prof-kim"]
        assert await ids(email="kim@ringsted.dk") == []
        assert (
            await svc.call(PROF, "GET", "/v1/referrers", params={"email": "kim.hansen@ringsted.dk"})
        ).status_code == 403
        assert await ids(readiness="trained") == ["prof-kim"]
        assert await ids(readiness="referring") == ["prof-mette"]
        assert await ids(has_referred="true") == ["prof-mette"]
        assert set(await ids(has_referred="false")) == {"guide-anne", "amb-lars", "prof-other", "prof-kim"}
        assert await ids(role="professional", has_referred="false") == ["prof-other", "prof-kim"]
        assert await ids(offers_accompaniment="true") == ["amb-lars"]
        assert (await svc.call(GUIDE, "GET", "/v1/referrers", params={"readiness": "expert"})).status_code == 422


async def test_follow_ups_are_overdue_14_days_after_they_fall_due(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        now = datetime.now(UTC)
        events: list[dict[str, Any]] = []

        def story(n: int, welcomed_days_ago: float, *answered: int) -> None:
            ref, rid, start = f"c-f{n}", f"r-f{n}", now - timedelta(days=welcomed_days_ago + 2)
            events.append(cloudevent(CitizenRegistered(citizen_ref=ref), start, f"f{n}a"))
            created = ReferralCreated(referral_id=rid, citizen_ref=ref, community_id="strik", referrer_id="prof-mette")
            events.append(cloudevent(created, start, f"f{n}b"))
            welcome = WelcomeConfirmed(referral_id=rid, community_id="strik", confirmed_by="contact-strik")
            welcomed_at = now - timedelta(days=welcomed_days_ago)
            events.append(cloudevent(welcome, welcomed_at, f"f{n}c"))
            for weeks in answered:
                confirmed = ParticipationConfirmed(referral_id=rid, weeks_after=weeks, still_participating=True)
                events.append(cloudevent(confirmed, welcomed_at + timedelta(weeks=weeks, days=1), f"f{n}w{weeks}"))

        story(1, 30)  # 4-week follow-up due, not yet overdue
        story(2, 43)  # 4-week follow-up 15 days past due: overdue
        story(3, 100, 4)  # 12-week follow-up 16 days past due: overdue
        story(4, 90, 4)  # 12-week follow-up due, not overdue
        story(5, 120, 4, 12)  # all answered
        result = await svc.ok(SYSTEM, "POST", "/v1/events", json=events, headers=BATCH)
        assert result["rejected"] == 0, result

        overdue = await svc.ok(GUIDE, "GET", "/v1/referrals", params={"follow_up": "overdue"})
        assert sorted(r["referral_id"] for r in overdue) == ["r-f2", "r-f3"]
        due = {r["referral_id"]: r["follow_up_due"] for r in await svc.ok(GUIDE, "GET", "/v1/referrals")}
        assert due == {"r-f1": 4, "r-f2": 4, "r-f3": 12, "r-f4": 12, "r-f5": None}
        # The filter keeps each reader's scope and combines with the others.
        assert [r["referral_id"] for r in await svc.ok(CONTACT, "GET", "/v1/referrals", params={
            "follow_up": "overdue", "status": "participating"
        })] == ["r-f3"]  # fmt: skip
        assert (await svc.call(GUIDE, "GET", "/v1/referrals", params={"follow_up": "soon"})).status_code == 422


async def test_the_new_events_are_ingested_with_the_same_rules(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        t0 = datetime.now(UTC) - timedelta(days=20)

        def at(days: float) -> datetime:
            return t0 + timedelta(days=days)

        def training(topic: str, actor_id: str = "prof-other") -> TrainingRecorded:
            return TrainingRecorded(actor_id=actor_id, trained_on=at(0).date(), topic=topic)

        def visit(rid: str, days: float, by: str) -> FirstVisitProposed:
            return FirstVisitProposed(referral_id=rid, visit_at=at(days), proposed_by=by)

        def score(rid: str, moment: LonelinessMoment, value: int) -> LonelinessMeasured:
            return LonelinessMeasured(referral_id=rid, moment=moment, score=value, citizen_ref="c-n")

        batch = [
            cloudevent(training("introduction"), at(0), "n1"),
            cloudevent(CitizenRegistered(citizen_ref="c-n"), at(1), "n2"),
            cloudevent(ReferralCreated(
                referral_id="r-n1", citizen_ref="c-n", community_id="strik", referrer_id="prof-other",
                needs_accompaniment=True,
            ), at(2), "n3"),
            cloudevent(score("r-n1", "referral", 7), at(2), "n4"),
            cloudevent(visit("r-n1", 9, "contact-strik"), at(3), "n5"),
            cloudevent(AccompanimentArranged(referral_id="r-n1", companion_id="amb-lars"), at(4), "n6"),
            cloudevent(CitizenAccompanied(referral_id="r-n1", companion_id="amb-lars"), at(9), "n7"),
            cloudevent(ReferralCreated(
                referral_id="r-n2", citizen_ref="c-n", community_id="kor", referrer_id="prof-other"
            ), at(10), "n8"),
            cloudevent(NoShowReported(referral_id="r-n2", reported_by="contact-kor"), at(12), "n9"),
        ]  # fmt: skip
        result = await svc.ok(SYSTEM, "POST", "/v1/events", json=batch, headers=BATCH)
        assert (result["accepted"], result["rejected"]) == (9, 0), result

        first = await svc.ok(GUIDE, "GET", "/v1/referrals/r-n1")
        assert first["status"] == "accompanied" and first["loneliness"] == ["referral"]
        assert first["visit_at"] == at(9).isoformat().replace("+00:00", "Z")
        assert (await svc.ok(GUIDE, "GET", "/v1/referrals/r-n2"))["status"] == "no_show"
        other = await svc.ok(GUIDE, "GET", "/v1/referrers/prof-other")
        assert other["readiness"] == "referring" and [t["topic"] for t in other["trainings"]] == ["introduction"]
        assert (await svc.ok(GUIDE, "GET", "/v1/referrers/amb-lars"))["readiness"] == "accompanying"
        derived = await svc.wait_events(3, type_suffix="ReadinessRecorded.v1")
        assert [(e.subject, e.data["level"], e.time) for e in derived] == [
            ("prof-other", "trained", at(0)),
            ("prof-other", "referring", at(2)),  # at the time of the event that caused it
            ("amb-lars", "accompanying", at(9)),
        ]
        assert {e.source for e in derived} == {"/services/referrals"}

        again = await svc.ok(SYSTEM, "POST", "/v1/events", json=batch, headers=BATCH)
        assert (again["accepted"], again["duplicate"]) == (0, 9)

        refused = [
            cloudevent(score("r-n1", "referral", 3), at(13), "x1"),
            cloudevent(score("r-n2", "week_12", 3), at(13), "x2"),
            cloudevent(training("juggling"), at(13), "x3"),
            cloudevent(training("Besøg i et fællesskab"), at(13), "x4"),
            cloudevent(training("introduction", "nobody"), at(13), "x5"),
            cloudevent(NoShowReported(referral_id="r-n2", reported_by="contact-kor"), at(13), "x6"),
            cloudevent(visit("r-n2", 20, "x"), at(13), "x7"),
            cloudevent(ReferralCreated(
                referral_id="r-n3", citizen_ref="c-n", community_id="strik", referrer_id="prof-other"
            ), at(14), "x8"),
        ]  # fmt: skip
        answered = await svc.ok(SYSTEM, "POST", "/v1/events", json=refused, headers=BATCH)
        reasons = [r["reason"] for r in answered["results"]]
        assert [r["status"] for r in answered["results"]] == ["rejected"] * 7 + ["accepted"]
        assert "already recorded" in reasons[0]
        assert "after the welcome" in reasons[1]
        assert "unknown training topic 'juggling'" in reasons[2]
        assert "events carry the code" in reasons[3]
        assert "not known" in reasons[4]
        assert "cannot no show a referral that is no show" in reasons[5]
        assert "cannot propose visit a referral that is no show" in reasons[6]
        await svc.wait_events(1, subject="r-n3")
        assert await levels(svc, "prof-other") == ["trained", "referring"]  # the later referral moved nothing
