"""Accompaniment requests over real HTTP, NATS and SQLite + PostgreSQL: a candidate reads an
open request (never the note or the citizen), two volunteers taking at once have one winner,
the companion then sees the shared first name and phone (audited), a volunteer may say no."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.referrals.support import (
    AMB,
    AMB_FAR,
    AMB_HOME,
    AMB_SOFIE,
    ANALYST,
    CONTACT,
    GUIDE,
    PROF,
    Svc,
    running,
    volunteers,
)

TAKEN = "accompaniment is already taken by another companion"
NOTE = "Borgeren bliver nemt utryg i store grupper"


async def ask_for_companion(svc: Svc, **kw: Any) -> dict[str, Any]:
    body = {"needs_accompaniment": True, "special_considerations": True, "note": NOTE}
    return await svc.referral(share_contact_with_community=True, **{**body, **kw})


async def requests(svc: Svc, tok: str) -> dict[str, dict[str, Any]]:
    return {r["referral_id"]: r for r in await svc.ok(tok, "GET", "/v1/accompaniment-requests")}


async def test_first_to_take_wins_and_the_winner_then_sees_the_citizen(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        await volunteers(svc)
        for _ in range(3):  # a few rounds, so the race really happens both ways
            referral = await ask_for_companion(svc)
            rid = referral["referral_id"]

            # Both are candidates: each reads the request, without the note or the citizen.
            for tok in (AMB, AMB_SOFIE):
                assert (await requests(svc, tok))[rid]["state"] == "open"
                seen = await svc.ok(tok, "GET", f"/v1/referrals/{rid}")
                assert seen["special_considerations"] is True and seen["community_name"]
                assert seen["note"] is None and seen["shared_contact"] is None

            async with svc.client(AMB) as lars, svc.client(AMB_SOFIE) as sofie:
                first, second = await asyncio.gather(
                    lars.post(f"/v1/referrals/{rid}/arrange_accompaniment", json={"companion_id": "amb-lars"}),
                    sofie.post(f"/v1/referrals/{rid}/arrange_accompaniment", json={"companion_id": "amb-sofie"}),
                )
            assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
            won, lost = (first, second) if first.status_code == 200 else (second, first)
            winner, winner_tok, loser_tok = (
                ("amb-lars", AMB, AMB_SOFIE) if won is first else ("amb-sofie", AMB_SOFIE, AMB)
            )
            assert lost.json()["error"]["message"] == TAKEN
            assert won.json()["companion_id"] == winner and won.json()["status"] == "accompaniment_arranged"
            timeline = await svc.ok(GUIDE, "GET", f"/v1/referrals/{rid}/timeline")
            assert [t["type"] for t in timeline].count("AccompanimentArranged") == 1

            mine = (await requests(svc, winner_tok))[rid]
            assert (mine["state"], mine["companion_id"]) == ("mine", winner)
            assert mine["shared_contact"] == {"first_name": "Birthe", "phone": "+45 87 65 43 21"}
            taken = (await requests(svc, loser_tok))[rid]
            assert (taken["state"], taken["companion_id"], taken["shared_contact"]) == ("taken", None, None)
            assert (await svc.call(loser_tok, "GET", f"/v1/referrals/{rid}")).status_code == 403

            # The companion reads the referral and its timeline: the shared contact, never the note.
            companion_view = await svc.ok(winner_tok, "GET", f"/v1/referrals/{rid}")
            assert companion_view["note"] is None
            assert companion_view["shared_contact"] == {"first_name": "Birthe", "phone": "+45 87 65 43 21"}
            await svc.ok(winner_tok, "GET", f"/v1/referrals/{rid}/timeline")
            # A late comer gets the same answer as the loser of the race.
            late = await svc.call(loser_tok, "POST", f"/v1/referrals/{rid}/arrange_accompaniment", json={
                "companion_id": "amb-lars" if loser_tok is AMB else "amb-sofie"
            })  # fmt: skip
            assert late.status_code == 409 and late.json()["error"]["message"] == TAKEN

            went = await svc.ok(winner_tok, "POST", f"/v1/referrals/{rid}/accompany")
            assert went["status"] == "accompanied"
            assert (await svc.ok(GUIDE, "GET", f"/v1/referrers/{winner}"))["readiness"] == "accompanying"

            audit = await svc.ok(GUIDE, "GET", f"/v1/citizens/{referral['citizen_ref']}/audit")
            reads = {(a["actor_id"], a["what"]) for a in audit}
            assert (winner, "shared_contact") in reads
            # The loser read the open request (logged), never the citizen's first name and phone.
            loser = "amb-sofie" if winner == "amb-lars" else "amb-lars"
            assert (loser, "list") in reads and (loser, "shared_contact") not in reads

        arranged = await svc.wait_events(3, type_suffix="AccompanimentArranged.v1")
        assert len(arranged) == 3


async def test_who_is_offered_a_request_and_who_may_take_it(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        await volunteers(svc)
        rid = (await ask_for_companion(svc))["referral_id"]
        plain = (await svc.referral())["referral_id"]  # asks for no companion

        lars = await requests(svc, AMB)
        assert set(lars) == {rid}
        request = lars[rid]
        assert request["community_id"] == "strik" and request["area"] == "vestervang"
        assert request["area_label"] == "Vestervang" and request["status"] == "requested"
        assert request["special_considerations"] is True and request["visit_at"] is None
        assert request["companion_id"] is None and request["shared_contact"] is None

        assert await requests(svc, AMB_FAR) == {}  # another area
        assert await requests(svc, AMB_HOME) == {}  # does not go along
        assert set(await requests(svc, GUIDE)) == {rid}  # guides see every open request
        for tok in (CONTACT, ANALYST):
            assert (await svc.call(tok, "GET", "/v1/accompaniment-requests")).status_code == 403

        # Only candidates read the request; only for a referral that asks for a companion.
        assert (await svc.call(AMB_FAR, "GET", f"/v1/referrals/{rid}")).status_code == 403
        assert (await svc.call(AMB, "GET", f"/v1/referrals/{plain}")).status_code == 403
        assert (await svc.call(AMB, "GET", f"/v1/referrals/{rid}/timeline")).status_code == 403

        def take(companion: str) -> dict[str, str]:
            return {"companion_id": companion}

        path = f"/v1/referrals/{rid}/arrange_accompaniment"
        for tok, companion, message in (
            (AMB, "amb-sofie", "only for yourself"),
            (AMB_FAR, "amb-far", "outside your area"),
            (AMB_HOME, "amb-home", "do not offer accompaniment"),
        ):
            refused = await svc.call(tok, "POST", path, json=take(companion))
            assert refused.status_code == 403 and message in refused.json()["error"]["message"]
        refused = await svc.call(AMB, "POST", f"/v1/referrals/{plain}/arrange_accompaniment", json=take("amb-lars"))
        assert refused.status_code == 403 and "does not ask for a companion" in refused.json()["error"]["message"]
        assert (await svc.call(CONTACT, "POST", path, json=take("amb-lars"))).status_code == 403
        assert (
            await svc.call(AMB, "POST", "/v1/referrals/nope/arrange_accompaniment", json=take("amb-lars"))
        ).status_code == 404
        assert (await svc.call(AMB, "POST", path, json={})).status_code == 422

        # The referrer still arranges anyone; once someone goes along, nobody else can.
        await svc.ok(PROF, "POST", path, json=take("amb-sofie"))
        again = await svc.call(PROF, "POST", path, json=take("amb-lars"))
        assert again.status_code == 409 and again.json()["error"]["message"] == TAKEN
        assert (await requests(svc, AMB))[rid]["state"] == "taken"
        assert (await requests(svc, GUIDE)) == {}


async def test_saying_no_to_a_request(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        await volunteers(svc)
        rid = (await ask_for_companion(svc))["referral_id"]
        before = len(await svc.events())

        path = f"/v1/referrals/{rid}/decline_accompaniment"
        declined = await svc.call(AMB_SOFIE, "POST", path)
        assert declined.status_code == 204 and declined.content == b""
        assert (await svc.call(AMB_SOFIE, "POST", path)).status_code == 204  # again: no harm
        assert rid not in await requests(svc, AMB_SOFIE)
        assert rid in await requests(svc, AMB)  # only for her
        assert (await svc.call(AMB_SOFIE, "GET", f"/v1/referrals/{rid}")).status_code == 403
        taking = await svc.call(AMB_SOFIE, "POST", f"/v1/referrals/{rid}/arrange_accompaniment", json={
            "companion_id": "amb-sofie"
        })  # fmt: skip
        assert taking.status_code == 403 and "you declined" in taking.json()["error"]["message"]

        assert (await svc.call(AMB_FAR, "POST", path)).status_code == 403
        assert (await svc.call(CONTACT, "POST", path)).status_code == 403
        assert (await svc.call(AMB, "POST", "/v1/referrals/nope/decline_accompaniment")).status_code == 404
        await svc.ok(AMB, "POST", f"/v1/referrals/{rid}/arrange_accompaniment", json={"companion_id": "amb-lars"})
        mine = await svc.call(AMB, "POST", path)
        assert mine.status_code == 409 and "you are the arranged companion" in mine.json()["error"]["message"]

        await svc.wait_events(before + 1)
        assert not [e for e in await svc.events() if "Decline" in e.type]  # saying no is no event
