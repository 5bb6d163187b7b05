"""Referrals over real HTTP, NATS and SQLite + PostgreSQL: the lifecycle publishes its events,
communities come from catalogue events, concurrent moves have one winner, roles hold."""

from __future__ import annotations

import asyncio
import json

from shared.events.catalogue import CommunityArchived, CommunityCapacityChanged
from tests.helpers import eventually, publish
from tests.integration.referrals.support import (
    ADMIN,
    AMB,
    ANALYST,
    CITIZEN_CONTACT,
    CONTACT,
    GUIDE,
    OTHER_CONTACT,
    OTHER_PROF,
    PROF,
    catalogue,
    community,
    running,
)


async def test_a_referral_flows_to_welcome_and_each_step_is_published(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        ref = await svc.citizen(
            consent={"purpose": "henvisning til fællesskab"},
            age_band="35-44",
            area="Nørrevang",  # a Danish label is accepted and stored as its code
            target_groups=["unemployed"],
        )
        referral = await svc.referral(citizen_ref=ref, needs_accompaniment=True, channel="phone")
        rid = referral["referral_id"]
        assert referral["status"] == "requested"
        assert referral["community_name"] == "Strikkeklubben i Vestervang"

        steps = [
            (CONTACT, "accept", None, "accepted"),
            (PROF, "arrange_accompaniment", {"companion_id": "amb-lars"}, "accompaniment_arranged"),
            (AMB, "accompany", None, "accompanied"),  # the companion sees and records it
            (CONTACT, "welcome", None, "welcomed"),
            (CONTACT, "confirm_participation", {"weeks_after": 4, "still_participating": True}, "participating"),
        ]
        for tok, action, body, status in steps:
            moved = await svc.ok(tok, "POST", f"/v1/referrals/{rid}/{action}", json=body)
            assert moved["status"] == status

        types = [e.type for e in await svc.wait_events(6, subject=rid)]
        assert types == [
            "dk.vejviser.ReferralCreated.v1",
            "dk.vejviser.ReferralAccepted.v1",
            "dk.vejviser.AccompanimentArranged.v1",
            "dk.vejviser.CitizenAccompanied.v1",
            "dk.vejviser.WelcomeConfirmed.v1",
            "dk.vejviser.ParticipationConfirmed.v1",
        ]
        timeline = await svc.ok(PROF, "GET", f"/v1/referrals/{rid}/timeline")
        assert [t["status"] for t in timeline] == [
            "requested",
            "accepted",
            "accompaniment_arranged",
            "accompanied",
            "welcomed",
            "participating",
        ]
        assert timeline[4]["data"]["confirmed_by"] == "contact-strik"
        assert timeline[0]["time_local"].endswith(("+01:00", "+02:00"))  # shown in Copenhagen time

        # An impossible move: 409 with the current status and the allowed moves.
        refused = await svc.call(CONTACT, "POST", f"/v1/referrals/{rid}/accept")
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["details"] == {"status": "participating", "allowed": ["confirm_participation"]}
        assert "cannot accept a referral that is participating" in error["message"]

        # No citizen's name, phone or e-mail in any event on the stream.
        registered = await svc.wait_events(1, type_suffix="CitizenRegistered.v1", subject=ref)
        assert registered[0].data == {
            "citizen_ref": ref,
            "age_band": "35-44",
            "area": "noerrevang",
            "target_groups": ["unemployed"],
        }
        raw = json.dumps([e.to_dict() for e in await svc.events()], ensure_ascii=False)
        for value in CITIZEN_CONTACT.values():
            assert value not in raw


async def test_unknown_community_is_refused_until_the_catalogue_registers_it(
    database_url: str, nats_clean: str
) -> None:
    async with running(database_url, nats_clean) as svc:
        ref = await svc.citizen()
        body = {"citizen_ref": ref, "community_id": "nyt-laug"}
        refused = await svc.call(PROF, "POST", "/v1/referrals", json=body)
        assert refused.status_code == 422
        assert "community 'nyt-laug' is not known to the referrals service" in refused.json()["error"]["message"]

        await publish(nats_clean, community("nyt-laug", "Det nye laug"))

        async def accepted() -> bool:
            return (await svc.call(PROF, "POST", "/v1/referrals", json=body)).status_code == 201

        await eventually(accepted, timeout=15)


async def test_two_concurrent_welcomes_have_one_winner(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        for _ in range(3):  # a few rounds, so the race really happens both ways
            rid = (await svc.referral())["referral_id"]
            await svc.ok(CONTACT, "POST", f"/v1/referrals/{rid}/accept")
            async with svc.client(CONTACT) as a, svc.client(GUIDE) as b:
                first, second = await asyncio.gather(
                    a.post(f"/v1/referrals/{rid}/welcome"), b.post(f"/v1/referrals/{rid}/welcome")
                )
            assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
            loser = first if first.status_code == 409 else second
            assert loser.json()["error"]["details"]["status"] == "welcomed"
            timeline = await svc.ok(GUIDE, "GET", f"/v1/referrals/{rid}/timeline")
            assert [t["type"] for t in timeline].count("WelcomeConfirmed") == 1
        welcomes = await svc.wait_events(3, type_suffix="WelcomeConfirmed.v1")
        assert len(welcomes) == 3


async def test_role_rules(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        referral = await svc.referral()
        rid, ref = referral["referral_id"], referral["citizen_ref"]

        other = await svc.call(OTHER_PROF, "GET", f"/v1/referrals/{rid}")
        assert other.status_code == 403
        assert "someone else" in other.json()["error"]["message"]
        assert await svc.ok(OTHER_PROF, "GET", "/v1/referrals") == []
        assert (await svc.call(OTHER_PROF, "POST", f"/v1/referrals/{rid}/cancel")).status_code == 403
        assert (await svc.call(OTHER_PROF, "GET", f"/v1/citizens/{ref}/contact")).status_code == 403

        assert [r["referral_id"] for r in await svc.ok(PROF, "GET", "/v1/referrals")] == [rid]
        assert [r["referral_id"] for r in await svc.ok(CONTACT, "GET", "/v1/referrals")] == [rid]
        assert await svc.ok(OTHER_CONTACT, "GET", "/v1/referrals") == []
        assert (await svc.call(OTHER_CONTACT, "GET", f"/v1/referrals/{rid}")).status_code == 403
        assert (await svc.call(ANALYST, "GET", "/v1/referrals")).status_code == 403
        # Community contacts answer for the community but never see contact data.
        assert (await svc.call(CONTACT, "GET", f"/v1/citizens/{ref}/contact")).status_code == 403
        assert (await svc.call(PROF, "POST", f"/v1/referrals/{rid}/accept")).status_code == 403
        # The welcome link is for guides only.
        assert (await svc.ok(PROF, "GET", f"/v1/referrals/{rid}"))["welcome_url"] is None
        assert (await svc.ok(GUIDE, "GET", f"/v1/referrals/{rid}"))["welcome_url"].startswith(
            "http://localhost:8002/welcome/"
        )
        # Nobody refers as someone else.
        body = {"citizen_ref": ref, "community_id": "strik", "referrer_id": "amb-lars"}
        assert (await svc.call(PROF, "POST", "/v1/referrals", json=body)).status_code == 403
        assert (await svc.call(ANALYST, "POST", "/v1/referrals", json=body)).status_code == 403


async def test_cpr_in_free_text_is_refused(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        ref = await svc.citizen()
        body = {"citizen_ref": ref, "community_id": "strik", "note": "Borgeren har cpr 010190-1234"}
        refused = await svc.call(PROF, "POST", "/v1/referrals", json=body)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["details"][0]["field"] == "note"
        assert "CPR" in error["message"]
        assert (
            await svc.call(PROF, "POST", "/v1/citizens", json={"contact": {"name": "Ib 0101901234"}})
        ).status_code == 422
        assert await svc.ok(GUIDE, "GET", "/v1/referrals") == []


async def test_full_and_archived_communities(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        await publish(
            nats_clean,
            catalogue(CommunityCapacityChanged(community_id="kor", available=0, total=30, status="full")),
            catalogue(CommunityArchived(community_id="strik")),
        )

        async def updated() -> bool:
            found = {
                c["community_id"]: c
                for c in await svc.ok(ADMIN, "GET", "/v1/communities", params={"include_archived": True})
            }
            return found["kor"]["capacity_status"] == "full" and found["strik"]["archived"]

        await eventually(updated, timeout=15)
        ref = await svc.citizen()
        full = await svc.call(PROF, "POST", "/v1/referrals", json={"citizen_ref": ref, "community_id": "kor"})
        assert full.status_code == 409 and "override_full" in full.json()["error"]["message"]
        await svc.ok(
            PROF, "POST", "/v1/referrals", 201, json={"citizen_ref": ref, "community_id": "kor", "override_full": True}
        )
        archived = await svc.call(
            PROF, "POST", "/v1/referrals", json={"citizen_ref": ref, "community_id": "strik", "override_full": True}
        )
        assert archived.status_code == 409 and "archived" in archived.json()["error"]["message"]


async def test_referrers_cascade_readiness_outreach_companions_and_bridges(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        # An ambassador recruits an ambassador: the edge is the recruiter, the first activation counts.
        new = await svc.ok(
            AMB,
            "POST",
            "/v1/referrers",
            201,
            json={"actor_id": "amb-sofie", "role": "ambassador", "area": "ringsted_midtby"},
        )
        assert new["activated_by"] == "amb-lars"
        again = await svc.call(GUIDE, "POST", "/v1/referrers", json={"actor_id": "amb-sofie", "role": "ambassador"})
        assert again.status_code == 409 and "first activation counts" in again.json()["error"]["message"]
        assert (
            await svc.call(
                AMB, "POST", "/v1/referrers", json={"actor_id": "p2", "role": "professional", "sector": "gp"}
            )
        ).status_code == 403
        unknown = await svc.call(
            GUIDE, "POST", "/v1/referrers", json={"actor_id": "x", "role": "ambassador", "activated_by": "nobody"}
        )
        assert unknown.status_code == 422

        assert (await svc.ok(GUIDE, "POST", "/v1/referrers/prof-mette/readiness", json={"level": "trained"}))[
            "readiness"
        ] == "trained"
        await svc.ok(
            GUIDE, "POST", "/v1/referrers/prof-mette/readiness", json={"level": "trained"}
        )  # no change, no event
        await svc.ok(
            PROF, "POST", "/v1/outreach", 201, json={"kind": "postcards", "count": 25, "area": "Ringsted midtby"}
        )

        # Companions: amb-lars lives in the community's area and speaks the citizen's language.
        ref = await svc.citizen(consent={"purpose": "følgeskab"}, languages=["ar"], area="vestervang")
        rid = (await svc.referral(citizen_ref=ref, needs_accompaniment=True))["referral_id"]
        ranked = await svc.ok(PROF, "GET", f"/v1/referrals/{rid}/companions")
        assert ranked[0]["actor_id"] == "amb-lars"
        assert any("shared language" in r for r in ranked[0]["reasons"])

        # Practice track → lasting community: CitizenBridged.
        track = await svc.referral(citizen_ref=ref, community_id="spis")
        lasting = await svc.referral(citizen_ref=ref, community_id="kor")
        wrong = await svc.call(
            PROF,
            "POST",
            f"/v1/citizens/{ref}/bridge",
            json={"from_community_id": "kor", "to_referral_id": track["referral_id"]},
        )
        assert wrong.status_code == 422 and "practice track" in wrong.json()["error"]["message"]
        await svc.ok(
            PROF,
            "POST",
            f"/v1/citizens/{ref}/bridge",
            201,
            json={"from_community_id": "spis", "to_referral_id": lasting["referral_id"]},
        )

        # The recorded level once (the repeat changed nothing), then the first referral's own move.
        readiness = await svc.wait_events(2, type_suffix="ReadinessRecorded.v1")
        assert [(e.subject, e.data["level"]) for e in readiness] == [
            ("prof-mette", "trained"),
            ("prof-mette", "referring"),
        ]
        outreach = await svc.wait_events(1, type_suffix="OutreachRecorded.v1")
        assert outreach[0].data == {
            "actor_id": "prof-mette",
            "kind": "postcards",
            "count": 25,
            "area": "ringsted_midtby",
        }
        bridged = await svc.wait_events(1, type_suffix="CitizenBridged.v1")
        assert bridged[0].data["to_referral_id"] == lasting["referral_id"]
        activations = await svc.wait_events(5, type_suffix="ReferrerActivated.v1")
        assert [e.data["activated_by"] for e in activations if e.subject == "amb-sofie"] == ["amb-lars"]


async def test_a_note_with_a_rejection_or_cancellation_is_refused_not_dropped(sqlite_url: str, nats_clean: str) -> None:
    """Free text about a citizen is stored only as the referral's sealed note: a `note` sent
    with a rejection or a cancellation would be kept nowhere, so it is a 422 naming the field."""
    async with running(sqlite_url, nats_clean) as svc:
        rid = (await svc.referral())["referral_id"]
        for move, body in (("reject", {"reason": "full", "note": "Ring til Birthe"}), ("cancel", {"note": "x"})):
            refused = await svc.call(GUIDE, "POST", f"/v1/referrals/{rid}/{move}", json=body)
            assert refused.status_code == 422 and "note" in refused.text, refused.text
            assert (await svc.ok(GUIDE, "GET", f"/v1/referrals/{rid}"))["status"] == "requested"
        rejected = await svc.ok(CONTACT, "POST", f"/v1/referrals/{rid}/reject", json={"reason": "full"})
        assert rejected["status"] == "rejected"
