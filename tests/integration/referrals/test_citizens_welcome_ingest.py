"""Erasure (crypto-shredding), the one-click welcome link, and CloudEvents ingestion with a
back-dated chain, over real HTTP, NATS and SQLite + PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.referrals.tables import Citizen
from shared.db import make_engine
from shared.events import Envelope, Event
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenRegistered,
    ReferralAccepted,
    ReferralCreated,
    ReferrerActivated,
    WelcomeConfirmed,
)
from shared.welcome import sign_welcome
from tests.helpers import session_keys
from tests.integration.referrals.support import CITIZEN_CONTACT, CONTACT, GUIDE, PROF, SYSTEM, running


async def test_erasure_makes_contact_data_unreadable_and_is_published(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        referral = await svc.referral()
        ref = referral["citizen_ref"]
        contact = await svc.ok(PROF, "GET", f"/v1/citizens/{ref}/contact")
        assert {k: contact[k] for k in ("name", "phone", "email")} == CITIZEN_CONTACT
        audit = await svc.ok(GUIDE, "GET", f"/v1/citizens/{ref}/audit")
        assert [(a["actor_id"], a["what"], a["purpose"]) for a in audit] == [
            ("prof-mette", "record", "referral_followup"),  # registered: the answer shows the record
            ("prof-mette", "referral", "referral_followup"),
            ("prof-mette", "contact", "contact_citizen"),  # the route's declared purpose
        ]
        free_text = await svc.call(PROF, "GET", f"/v1/citizens/{ref}/contact", params={"purpose": "aftale møde"})
        assert free_text.status_code == 422 and "contact_citizen" in free_text.json()["error"]["message"]

        engine = make_engine(database_url)
        try:
            with engine.connect() as conn:
                before = conn.scalar(select(Citizen.contact_ciphertext).where(Citizen.citizen_ref == ref))
            assert before is not None and CITIZEN_CONTACT["name"].encode() not in before  # encrypted at rest

            assert (await svc.call(PROF, "DELETE", f"/v1/citizens/{ref}")).status_code == 403
            await svc.ok(GUIDE, "DELETE", f"/v1/citizens/{ref}")

            with engine.connect() as conn:
                after = conn.scalar(select(Citizen.contact_ciphertext).where(Citizen.citizen_ref == ref))
        finally:
            engine.dispose()
        assert after is None  # and the key that sealed it is gone (test_erasure_holds.py reads a backup)
        assert svc.service.vault.key_of(ref) is None

        gone = await svc.call(GUIDE, "GET", f"/v1/citizens/{ref}/contact", params={"purpose": "contact_citizen"})
        assert gone.status_code == 410
        assert (await svc.call(GUIDE, "DELETE", f"/v1/citizens/{ref}")).status_code == 410
        assert (
            await svc.call(PROF, "POST", "/v1/referrals", json={"citizen_ref": ref, "community_id": "strik"})
        ).status_code == 410
        # The pseudonymous referral stays for the statistics.
        assert (await svc.ok(GUIDE, "GET", f"/v1/referrals/{referral['referral_id']}"))["citizen_ref"] == ref
        erased = await svc.wait_events(1, type_suffix="CitizenErased.v1")
        assert erased[0].data == {"citizen_ref": ref}


async def test_the_welcome_link_works_once_and_not_after_expiry(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        referral = await svc.referral()
        rid = referral["referral_id"]
        url = (await svc.ok(GUIDE, "GET", f"/v1/referrals/{rid}"))["welcome_url"]
        path = url.removeprefix("http://localhost:8002")
        async with svc.client("") as anonymous:
            shown = await anonymous.get(path)
            assert shown.status_code == 200
            assert "Strikkeklubben i Vestervang" in shown.text and "Bekræft velkomst" in shown.text
            assert referral["citizen_ref"] not in shown.text and CITIZEN_CONTACT["name"] not in shown.text

            confirmed = await anonymous.post(path)
            assert confirmed.status_code == 200 and "Tak for velkomsten" in confirmed.text
            again = await anonymous.post(path)
            assert again.status_code == 409 and "allerede bekræftet" in again.text
            assert (await anonymous.get(path)).status_code == 409

            other = await svc.referral()
            expired = sign_welcome(
                session_keys().link_key, other["referral_id"], datetime.now(UTC) - timedelta(minutes=1)
            )
            response = await anonymous.post(f"/welcome/{expired}")
            assert response.status_code == 410 and "udløbet" in response.text
            forged = sign_welcome("another-secret", other["referral_id"], datetime.now(UTC) + timedelta(days=1))
            assert (await anonymous.get(f"/welcome/{forged}")).status_code == 404
        assert (await svc.ok(GUIDE, "GET", f"/v1/referrals/{other['referral_id']}"))["status"] == "requested"
        assert (await svc.ok(GUIDE, "GET", f"/v1/referrals/{rid}"))["status"] == "welcomed"
        welcome = await svc.wait_events(1, type_suffix="WelcomeConfirmed.v1", subject=rid)
        assert welcome[0].data["confirmed_by"] == "welcome-link"
        assert welcome[0].data["community_id"] == "strik"


T0 = datetime(2024, 9, 2, 8, 30, tzinfo=UTC)


def cloudevent(event: Event, days: float, id: str) -> dict[str, Any]:
    # The system states the citizen's consent, as ingestion requires for attributes (shared/screening.py).
    envelope = Envelope.wrap(event, source="/systems/jobcenter", time=T0 + timedelta(days=days), id=id)
    return {**envelope.to_dict(), "consentdate": "2024-09-01"}


def back_dated_chain() -> list[dict[str, Any]]:
    return [
        cloudevent(
            ReferrerActivated(
                actor_id="prof-jc-9", role="professional", sector="job_centre", activated_by="guide-anne"
            ),
            0,
            "e1",
        ),
        cloudevent(CitizenRegistered(citizen_ref="c-jc-1", age_band="25-34", target_groups=["unemployed"]), 1, "e2"),
        cloudevent(
            ReferralCreated(
                referral_id="r-jc-1",
                citizen_ref="c-jc-1",
                community_id="strik",
                referrer_id="prof-jc-9",
                needs_accompaniment=True,
                channel="system",
            ),
            1.5,
            "e3",
        ),
        cloudevent(AccompanimentArranged(referral_id="r-jc-1", companion_id="amb-lars"), 3, "e4"),
        cloudevent(CitizenAccompanied(referral_id="r-jc-1", companion_id="amb-lars"), 8, "e5"),
        cloudevent(
            WelcomeConfirmed(referral_id="r-jc-1", community_id="strik", confirmed_by="contact-strik"), 8.1, "e6"
        ),
    ]


async def test_a_back_dated_batch_is_accepted_in_order_and_reposting_changes_nothing(
    database_url: str, nats_clean: str
) -> None:
    async with running(database_url, nats_clean) as svc:
        batch = back_dated_chain()
        headers = {"Content-Type": "application/cloudevents-batch+json"}
        result = await svc.ok(SYSTEM, "POST", "/v1/events", json=batch, headers=headers)
        assert (result["accepted"], result["duplicate"], result["rejected"]) == (6, 0, 0), result

        referral = await svc.ok(GUIDE, "GET", "/v1/referrals/r-jc-1")
        assert referral["status"] == "welcomed"
        assert referral["created_at"] == "2024-09-03T20:30:00Z"  # the event time, not the posting time
        timeline = await svc.ok(GUIDE, "GET", "/v1/referrals/r-jc-1/timeline")
        assert [t["event_id"] for t in timeline] == ["e3", "e4", "e5", "e6"]
        assert timeline[-1]["time"] == "2024-09-10T10:54:00Z"
        referrer = await svc.ok(GUIDE, "GET", "/v1/referrers/prof-jc-9")
        assert referrer["activated_by"] == "guide-anne" and referrer["activated_at"] == "2024-09-02T08:30:00Z"

        again = await svc.ok(SYSTEM, "POST", "/v1/events", json=batch, headers=headers)
        assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 6, 0)
        assert await svc.ok(GUIDE, "GET", "/v1/referrals/r-jc-1/timeline") == timeline
        assert (await svc.ok(GUIDE, "GET", "/v1/referrals/r-jc-1"))["version"] == referral["version"]

        # Lifecycle rules hold for ingested events too: each rejection says why.
        late = [
            cloudevent(ReferralAccepted(referral_id="r-jc-1"), 9, "e7"),
            cloudevent(
                ReferralCreated(
                    referral_id="r-jc-2", citizen_ref="c-unknown", community_id="strik", referrer_id="prof-jc-9"
                ),
                9,
                "e8",
            ),
            cloudevent(
                ReferralCreated(
                    referral_id="r-jc-3", citizen_ref="c-jc-1", community_id="nowhere", referrer_id="prof-jc-9"
                ),
                9,
                "e9",
            ),
        ]
        rejected = await svc.ok(SYSTEM, "POST", "/v1/events", json=late, headers=headers)
        reasons = [r["reason"] for r in rejected["results"]]
        assert rejected["rejected"] == 3
        assert "cannot accept a referral that is welcomed" in reasons[0]
        assert "not registered" in reasons[1]
        assert "not known to the referrals service" in reasons[2]

        assert (await svc.call(PROF, "POST", "/v1/events", json=batch)).status_code == 403
        published = await svc.wait_events(6, type_suffix="")
        assert [e.id for e in published if e.source == "/systems/jobcenter"] == ["e1", "e2", "e3", "e4", "e5", "e6"]


async def test_the_overdue_filter_uses_event_times(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        now = datetime.now(UTC)
        old = [
            Envelope.wrap(
                CitizenRegistered(citizen_ref="c-old"), source="/systems/x", time=now - timedelta(days=20)
            ).to_dict(),
            Envelope.wrap(
                ReferralCreated(referral_id="r-old", citizen_ref="c-old", community_id="kor", referrer_id="prof-mette"),
                source="/systems/x",
                time=now - timedelta(days=10),
            ).to_dict(),
        ]
        assert (await svc.ok(SYSTEM, "POST", "/v1/events", json=old))["accepted"] == 2
        fresh = (await svc.referral())["referral_id"]
        overdue = await svc.ok(GUIDE, "GET", "/v1/referrals", params={"overdue": 7})
        assert [r["referral_id"] for r in overdue] == ["r-old"]
        assert await svc.ok(GUIDE, "GET", "/v1/referrals", params={"overdue": 30}) == []
        every = await svc.ok(GUIDE, "GET", "/v1/referrals", params={"status": "requested"})
        assert {r["referral_id"] for r in every} == {"r-old", fresh}
        assert [r["referral_id"] for r in await svc.ok(GUIDE, "GET", "/v1/referrals", params={"community": "kor"})] == [
            "r-old"
        ]
        mine = await svc.ok(CONTACT, "GET", "/v1/referrals", params={"community": "kor"})
        assert mine == []  # a contact filtering on another community sees nothing of it


async def test_citizen_refs_are_random_while_referral_ids_are_time_ordered(sqlite_url: str, nats_clean: str) -> None:
    # A time-ordered citizen_ref (UUIDv7) would tell when the citizen was registered.
    async with running(sqlite_url, nats_clean) as svc:
        referral = await svc.referral()
        ref = await svc.citizen()
    assert uuid.UUID(ref.removeprefix("c-")).version == 4
    assert uuid.UUID(referral["citizen_ref"].removeprefix("c-")).version == 4
    assert uuid.UUID(referral["referral_id"]).version == 7


async def test_vocabulary_is_the_profiles_labels_become_codes_and_unknown_terms_are_refused_by_name(
    database_url: str, nats_clean: str
) -> None:
    async with running(database_url, nats_clean) as svc:
        # Over HTTP: a Danish label is stored as its code and shown with its label; unknown is a 422.
        citizen = await svc.ok(
            PROF,
            "POST",
            "/v1/citizens",
            201,
            json={"consent": {}, "area": "Benløse", "target_groups": ["Ledige", "newcomer"]},
        )
        assert (citizen["area"], citizen["area_label"]) == ("benloese", "Benløse")
        assert citizen["target_groups"] == ["unemployed", "newcomer"]
        assert citizen["target_group_labels"][0] == "Ledige"
        assert citizen["consent"]["purpose"].startswith("Henvisning til fællesskaber")  # the profile's purpose
        refused = await svc.call(PROF, "POST", "/v1/citizens", json={"consent": {}, "area": "Centrum"})
        assert refused.status_code == 422
        message = refused.json()["error"]["message"]
        assert "Centrum" in message and "ringsted_midtby" in message and "vestervang" in message
        sector = await svc.call(
            GUIDE, "POST", "/v1/referrers", json={"actor_id": "p-x", "role": "professional", "sector": "hairdresser"}
        )
        assert sector.status_code == 422 and "job_centre" in sector.json()["error"]["message"]
        found = await svc.ok(GUIDE, "GET", "/v1/referrers", params={"area": "Vestervang"})
        assert [r["actor_id"] for r in found] == ["amb-lars"] and found[0]["area_label"] == "Vestervang"

        # Through ingestion: the same check is a per-event rejection naming the allowed codes,
        # and an event must carry the code: it travels on to other services as posted.
        headers = {"Content-Type": "application/cloudevents-batch+json"}
        batch = [
            cloudevent(CitizenRegistered(citizen_ref="c-voc-1", area="Kongsted"), 1, "v1"),
            cloudevent(CitizenRegistered(citizen_ref="c-voc-2", area="jystrup"), 1, "v2"),
            cloudevent(ReferrerActivated(actor_id="amb-voc", role="ambassador", area="Atlantis"), 1, "v3"),
            cloudevent(CitizenRegistered(citizen_ref="c-voc-3", area="Jystrup"), 1, "v4"),
        ]
        result = await svc.ok(SYSTEM, "POST", "/v1/events", json=batch, headers=headers)
        assert [r["status"] for r in result["results"]] == ["rejected", "accepted", "rejected", "rejected"]
        assert "Kongsted" in result["results"][0]["reason"] and "jystrup" in result["results"][0]["reason"]
        assert "Atlantis" in result["results"][2]["reason"]
        assert result["results"][3]["reason"] == (
            "data.area: 'Jystrup' is the label of area 'jystrup'; events carry the code"
        )
        stored = await svc.ok(GUIDE, "GET", "/v1/citizens/c-voc-2")
        assert stored["area"] == "jystrup"
        assert (await svc.call(GUIDE, "GET", "/v1/citizens/c-voc-3")).status_code == 404
