"""`POST /v1/events` of referrals and catalogue applies the APIs' rules (shared/screening.py),
with the issue's probes: an area reading "Testperson Ærlig, tlf +45 12345678" and an age band
without consent are refused with a reason a person can act on, and nothing of them reaches
the bus; the same citizen with stated consent and codes is accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.catalogue.main import build as build_catalogue
from shared.events import BATCH_CONTENT_TYPE, Envelope, Event
from shared.events.catalogue import CommunityRegistered, NeedRecorded, WelcomeContact
from shared.events.referrals import CitizenRegistered, LonelinessMeasured
from tests.helpers import ServedApp, stream_events, token
from tests.integration.catalogue.conftest import settings as catalogue_settings
from tests.integration.referrals.support import GUIDE, SYSTEM, running

PROBE_AREA = "Testperson Ærlig, tlf +45 12345678"
BATCH = {"content-type": BATCH_CONTENT_TYPE}
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def cloudevent(event: Event, id_: str, **extensions: Any) -> dict[str, Any]:
    return {**Envelope.wrap(event, source="/systems/jobcenter", time=WHEN, id=id_).to_dict(), **extensions}


def reasons(answer: dict[str, Any]) -> dict[str, str | None]:
    return {r["id"]: r["reason"] for r in answer["results"]}


async def test_referrals_ingestion_refuses_the_probes_and_accepts_stated_consent(
    sqlite_url: str, nats_clean: str
) -> None:
    registered = CitizenRegistered(citizen_ref="c-probe-3", age_band="25-34", area="vestervang")
    async with running(sqlite_url, nats_clean) as svc:
        batch = [
            cloudevent(CitizenRegistered(citizen_ref="c-probe-1", area=PROBE_AREA), "p1", consentdate="2025-02-27"),
            cloudevent(CitizenRegistered(citizen_ref="c-probe-2", age_band="25-34"), "p2"),
            cloudevent(registered, "p3", consentdate="2025-02-27"),
            cloudevent(LonelinessMeasured(referral_id="r-x", moment="referral", score=8), "p4"),
        ]  # fmt: skip
        answer = await svc.ok(SYSTEM, "POST", "/v1/events", json=batch, headers=BATCH)
        assert [r["status"] for r in answer["results"]] == ["rejected", "rejected", "accepted", "rejected"]
        why = reasons(answer)
        assert (why["p1"] or "").startswith("data.area: contains a phone number; events carry no personal data")
        assert "12345678" not in (why["p1"] or "") and "Testperson" not in (why["p1"] or "")
        assert (why["p2"] or "").startswith("data.age_band: stored only with the citizen's consent; state it")
        assert "consentdate" in (why["p2"] or "")
        assert (why["p4"] or "").startswith("data.score: stored only with the citizen's consent")

        # What was accepted is stored with its consent; what was refused left nothing behind.
        citizen = await svc.ok(GUIDE, "GET", "/v1/citizens/c-probe-3")
        assert (citizen["age_band"], citizen["area"]) == ("25-34", "vestervang")
        assert citizen["consent"]["date"] == "2025-02-27"  # the date the system stated
        for refused in ("c-probe-1", "c-probe-2"):
            assert (await svc.call(GUIDE, "GET", f"/v1/citizens/{refused}")).status_code == 404
        on_bus = [e for e in await stream_events(nats_clean, "referrals") if e.type.endswith("CitizenRegistered.v1")]
        assert [e.subject for e in on_bus] == ["c-probe-3"]
        assert "12345678" not in str([e.to_dict() for e in await stream_events(nats_clean, "referrals")])

        # A score names its referral's citizen (it ends the subject the erasure purges by).
        referral = await svc.referral()
        rid, own = referral["referral_id"], referral["citizen_ref"]
        scores = [
            cloudevent(LonelinessMeasured(referral_id=rid, moment="referral", score=6, citizen_ref="c-probe-3"), "s1"),
            cloudevent(LonelinessMeasured(referral_id=rid, moment="referral", score=6, citizen_ref=own), "s2"),
        ]
        scored = await svc.ok(SYSTEM, "POST", "/v1/events", json=[s | {"consentdate": "2025-02-27"} for s in scores])
        assert [(r["status"], r["reason"]) for r in scored["results"]] == [
            ("rejected", "data.citizen_ref: not the citizen of this referral"),
            ("accepted", None),
        ]

        # Binary mode states consent in the ce-consentdate header.
        headers = {
            "ce-specversion": "1.0",
            "ce-id": "p5",
            "ce-source": "/systems/jobcenter",
            "ce-type": CitizenRegistered.event_type(),
            "ce-time": "2025-03-01T09:30:00Z",
            "ce-consentdate": "2025-02-27",
            "content-type": "application/json",
        }
        body = CitizenRegistered(citizen_ref="c-probe-5", target_groups=["newcomer"]).model_dump_json()
        binary = await svc.ok(SYSTEM, "POST", "/v1/events", content=body, headers=headers)
        assert [r["status"] for r in binary["results"]] == ["accepted"]
        without = {k: v for k, v in headers.items() if k != "ce-consentdate"} | {"ce-id": "p6"}
        body6 = CitizenRegistered(citizen_ref="c-probe-6", target_groups=["newcomer"]).model_dump_json()
        refused = await svc.ok(SYSTEM, "POST", "/v1/events", content=body6, headers=without)
        assert (refused["results"][0]["reason"] or "").startswith("data.target_groups: stored only with")


async def test_a_field_the_contract_does_not_know_never_reaches_the_bus(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        event = cloudevent(CitizenRegistered(citizen_ref="c-extra", area="vestervang"), "x1", consentdate="2025-02-27")
        event["data"]["journal"] = "Testperson Ærlig har angst og bor alene"  # not a field of the event
        answer = await svc.ok(SYSTEM, "POST", "/v1/events", json=[event], headers=BATCH)
        assert [r["status"] for r in answer["results"]] == ["accepted"]
        on_bus = [e for e in await stream_events(nats_clean, "referrals") if e.subject == "c-extra"]
        assert len(on_bus) == 1 and "journal" not in on_bus[0].data
        assert on_bus[0].data["area"] == "vestervang"


async def test_catalogue_ingestion_keeps_contact_data_to_the_contact_fields(sqlite_url: str, nats_clean: str) -> None:
    community = CommunityRegistered(
        community_id="k-probe",
        organization_id="o-probe",
        name="Søndagsvandring",
        categories=["nature"],
        area="jystrup",
        kind="permanent",
        accepts_special_needs=True,
        contact=WelcomeContact(name="Agnete Friis", email="agnete@example.dk", phone="+45 22 33 44 55"),
    )
    chatty = community.model_copy(update={"community_id": "k-chatty", "description": "Ring til Agnete: 22334455"})
    need = NeedRecorded(need_id="n-probe", area=PROBE_AREA, category="social", description="x", recorded_by="jc")
    batch = [cloudevent(community, "c1"), cloudevent(chatty, "c2"), cloudevent(need, "c3")]
    app = build_catalogue(catalogue_settings(sqlite_url, nats_clean))
    async with ServedApp(app) as served, served.client(token("municipal_system", "system-jobcenter")) as client:
        answer = (await client.post("/v1/events", json=batch, headers=BATCH)).json()
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected", "rejected"]
    why = reasons(answer)
    assert (why["c2"] or "").startswith("data.description: contains a phone number")
    assert (why["c3"] or "").startswith("data.area: contains a phone number")
    on_bus = await stream_events(nats_clean, "catalogue")
    assert [e.subject for e in on_bus if e.type.endswith("CommunityRegistered.v1")] == ["k-probe"]
    assert "22334455" not in str([e.to_dict() for e in on_bus]) and "Testperson" not in str(
        [e.to_dict() for e in on_bus]
    )
