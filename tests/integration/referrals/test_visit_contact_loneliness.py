"""The community's side after a referral (a proposed first visit, "Kom ikke"), who reads the
note and the contact the citizen agreed to share, and the loneliness measure: over real HTTP,
NATS and SQLite + PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.events import Envelope
from shared.events.referrals import LonelinessMeasured
from shared.profile import DEFAULT_PROFILE
from tests.integration.referrals.support import (
    AMB,
    CONTACT,
    GUIDE,
    OTHER_CONTACT,
    PROF,
    SYSTEM,
    running,
)

NOTE = "Ring helst om formiddagen"
SHARED = {"first_name": "Birthe", "phone": "+45 87 65 43 21"}


async def test_a_proposed_visit_then_a_no_show(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        rid = (await svc.referral())["referral_id"]
        path = f"/v1/referrals/{rid}/propose_visit"

        proposed = await svc.ok(CONTACT, "POST", path, json={"visit_at": "2026-12-10T18:30:00+01:00"})
        assert proposed["visit_at"] == "2026-12-10T17:30:00Z" and proposed["status"] == "requested"
        assert "propose_visit" in proposed["allowed_actions"] and "no_show" in proposed["allowed_actions"]
        again = await svc.ok(GUIDE, "POST", path, json={"visit_at": "2026-12-11T10:00:00+01:00"})
        assert again["visit_at"] == "2026-12-11T09:00:00Z"  # a new proposal replaces the last
        assert (await svc.ok(PROF, "GET", f"/v1/referrals/{rid}"))["visit_at"] == "2026-12-11T09:00:00Z"

        naive = await svc.call(CONTACT, "POST", path, json={"visit_at": "2026-12-10T18:30:00"})
        assert naive.status_code == 422
        assert (await svc.call(CONTACT, "POST", path, json={})).status_code == 422
        assert (await svc.call(PROF, "POST", path, json={"visit_at": "2026-12-10T18:30:00+01:00"})).status_code == 403
        assert (
            await svc.call(OTHER_CONTACT, "POST", path, json={"visit_at": "2026-12-10T18:30:00+01:00"})
        ).status_code == 403
        assert (
            await svc.call(
                CONTACT, "POST", "/v1/referrals/nope/propose_visit", json={"visit_at": "2026-12-10T18:30:00Z"}
            )
        ).status_code == 404

        assert (await svc.call(PROF, "POST", f"/v1/referrals/{rid}/no_show")).status_code == 403
        gone = await svc.ok(CONTACT, "POST", f"/v1/referrals/{rid}/no_show")
        assert gone["status"] == "no_show" and gone["allowed_actions"] == []
        twice = await svc.call(CONTACT, "POST", f"/v1/referrals/{rid}/no_show")
        assert twice.status_code == 409 and twice.json()["error"]["details"] == {"status": "no_show", "allowed": []}
        late = await svc.call(CONTACT, "POST", path, json={"visit_at": "2026-12-10T18:30:00+01:00"})
        assert late.status_code == 409
        assert [r["referral_id"] for r in await svc.ok(PROF, "GET", "/v1/referrals", params={"status": "no_show"})] == [
            rid
        ]

        timeline = await svc.ok(PROF, "GET", f"/v1/referrals/{rid}/timeline")
        assert [(t["type"], t["status"]) for t in timeline] == [
            ("ReferralCreated", "requested"),
            ("FirstVisitProposed", "requested"),
            ("FirstVisitProposed", "requested"),
            ("NoShowReported", "no_show"),
        ]
        assert timeline[1]["data"] == {"visit_at": "2026-12-10T17:30:00Z", "proposed_by": "contact-strik"}
        events = await svc.wait_events(4, subject=rid)
        assert events[-1].type == "dk.vejviser.NoShowReported.v1"
        assert events[-1].data == {"referral_id": rid, "reported_by": "contact-strik"}


async def test_who_reads_the_note_and_the_shared_contact(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        shared = await svc.referral(note=NOTE, share_contact_with_community=True, needs_accompaniment=True)
        kept = await svc.referral(note=NOTE, needs_accompaniment=True)
        nameless_ref = await svc.citizen(contact={"email": "x@example.dk"})
        nameless = await svc.referral(citizen_ref=nameless_ref, share_contact_with_community=True)
        assert shared["share_contact_with_community"] is True and kept["share_contact_with_community"] is False
        for referral in (shared, kept):
            await svc.ok(PROF, "POST", f"/v1/referrals/{referral['referral_id']}/arrange_accompaniment", json={
                "companion_id": "amb-lars"
            })  # fmt: skip

        async def read(tok: str, referral: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
            seen = await svc.ok(tok, "GET", f"/v1/referrals/{referral['referral_id']}")
            return seen["note"], seen["shared_contact"]

        # Note: the referrer and the staff. Shared contact: also the community and the companion.
        assert await read(PROF, shared) == (NOTE, SHARED)
        assert await read(GUIDE, shared) == (NOTE, SHARED)
        assert await read(CONTACT, shared) == (None, SHARED)
        assert await read(AMB, shared) == (None, SHARED)
        assert await read(CONTACT, kept) == (None, None)  # the citizen did not agree to share
        assert await read(AMB, kept) == (None, None)
        assert await read(PROF, kept) == (NOTE, None)
        assert await read(CONTACT, nameless) == (None, None)  # nothing to share: no name, no phone
        assert (await svc.call(OTHER_CONTACT, "GET", f"/v1/referrals/{shared['referral_id']}")).status_code == 403

        # Lists show the same, and every opening is audited.
        listed = {r["referral_id"]: r for r in await svc.ok(CONTACT, "GET", "/v1/referrals")}
        assert listed[shared["referral_id"]]["shared_contact"] == SHARED
        assert listed[shared["referral_id"]]["note"] is None
        audit = await svc.ok(GUIDE, "GET", f"/v1/citizens/{shared['citizen_ref']}/audit")
        opened = [(a["actor_id"], a["what"]) for a in audit if a["what"] == "shared_contact"]
        assert ("contact-strik", "shared_contact") in opened and ("amb-lars", "shared_contact") in opened
        assert opened.count(("contact-strik", "shared_contact")) == 2  # one read, one list
        # Every read of the referral is there; the note and the contact only where they were shown.
        kept_reads = {
            (a["actor_id"], a["what"]) for a in await svc.ok(GUIDE, "GET", f"/v1/citizens/{kept['citizen_ref']}/audit")
        }
        assert {("contact-strik", "referral"), ("amb-lars", "referral"), ("prof-mette", "note")} <= kept_reads
        assert not {("contact-strik", "note"), ("amb-lars", "note")} & kept_reads
        assert not [who for who, what in kept_reads if what == "shared_contact"]

        # Nothing of it travels in an event.
        raw = str([e.to_dict() for e in await svc.events()])
        assert NOTE not in raw and "Birthe" not in raw and "share_contact" not in raw


async def test_the_loneliness_measure(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        referral = await svc.referral()
        rid = referral["referral_id"]
        path = f"/v1/referrals/{rid}/loneliness"
        body = {"moment": "referral", "answers": [2, 3, 1], "consent": True}

        for wrong, field in (
            ({**body, "consent": False}, "consent"),
            ({**body, "answers": [1, 2]}, "answers"),
            ({**body, "answers": [1, 2, 4]}, "answers"),
            ({**body, "moment": "week_4"}, "moment"),
        ):
            refused = await svc.call(PROF, "POST", path, json=wrong)
            assert refused.status_code == 422, refused.text
            assert field in refused.text
        assert (await svc.call(CONTACT, "POST", path, json=body)).status_code == 403
        assert (await svc.call(GUIDE, "POST", "/v1/referrals/nope/loneliness", json=body)).status_code == 404
        await svc.ok(PROF, "POST", f"/v1/referrals/{rid}/arrange_accompaniment", json={"companion_id": "amb-lars"})
        companion = await svc.call(AMB, "POST", path, json=body)
        assert companion.status_code == 403 and "referrer" in companion.json()["error"]["message"]

        measured = await svc.ok(PROF, "POST", path, 201, json=body)
        assert measured["loneliness"] == ["referral"]
        again = await svc.call(GUIDE, "POST", path, json={**body, "answers": [1, 1, 1]})
        assert again.status_code == 409 and "already recorded" in again.json()["error"]["message"]
        early = await svc.call(PROF, "POST", path, json={**body, "moment": "week_12"})
        assert early.status_code == 409 and "after the welcome" in early.json()["error"]["message"]

        await svc.ok(CONTACT, "POST", f"/v1/referrals/{rid}/welcome")
        later = await svc.ok(GUIDE, "POST", path, 201, json={**body, "moment": "week_12", "answers": [1, 1, 2]})
        assert later["loneliness"] == ["referral", "week_12"]

        events = await svc.wait_events(2, type_suffix="LonelinessMeasured.v1")
        own = referral["citizen_ref"]  # names its citizen, so erasing them purges it from the stream
        assert [e.data for e in events] == [
            {"referral_id": rid, "moment": "referral", "score": 6, "citizen_ref": own},
            {"referral_id": rid, "moment": "week_12", "score": 4, "citizen_ref": own},
        ]
        # Communities and companions read the timeline: it says that it was asked, not the score.
        timeline = await svc.ok(CONTACT, "GET", f"/v1/referrals/{rid}/timeline")
        assert [t["data"] for t in timeline if t["type"] == "LonelinessMeasured"] == [
            {"moment": "referral"},
            {"moment": "week_12"},
        ]


async def test_no_loneliness_measure_where_the_profile_does_not_use_it(
    sqlite_url: str, nats_clean: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8")) | {"loneliness_scale": False}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(without), encoding="utf-8")
    monkeypatch.setenv("MUNICIPALITY_PROFILE", str(path))
    async with running(sqlite_url, nats_clean) as svc:
        referral = await svc.referral()
        rid = referral["referral_id"]
        body = {"moment": "referral", "answers": [1, 2, 3], "consent": True}
        refused = await svc.call(PROF, "POST", f"/v1/referrals/{rid}/loneliness", json=body)
        assert refused.status_code == 422 and "not used in" in refused.json()["error"]["message"]
        measured = LonelinessMeasured(referral_id=rid, moment="referral", score=6, citizen_ref=referral["citizen_ref"])
        event = Envelope.wrap(measured, source="/systems/x")
        ingested = await svc.ok(SYSTEM, "POST", "/v1/events", json=event.to_dict() | {"consentdate": "2024-01-01"})
        assert ingested["rejected"] == 1 and "not used in" in ingested["results"][0]["reason"]
        assert (await svc.ok(PROF, "GET", f"/v1/referrals/{rid}"))["loneliness"] == []
