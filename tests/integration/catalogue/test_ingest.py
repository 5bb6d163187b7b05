"""`POST /v1/events`: municipal systems send catalogue events; idempotent by event id."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.catalogue.main import build
from shared.events import BATCH_CONTENT_TYPE, Envelope
from shared.events.catalogue import (
    CommunityCapacityChanged,
    CommunityRegistered,
    CommunityUpdated,
    NeedRecorded,
    WelcomeContact,
)
from tests.helpers import ServedApp, eventually, stream_events, token
from tests.integration.catalogue.conftest import settings

SYSTEM = token("municipal_system", "system-jobcenter")
SOURCE = "/systems/old-directory"
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _batch() -> list[dict[str, object]]:
    registered = CommunityRegistered(
        community_id="old-dir-17",
        organization_id="old-org-3",
        name="Søndagsvandring i Jystrup",
        categories=["nature", "sport"],
        area="jystrup",
        kind="permanent",
        accepts_special_needs=True,
        capacity_total=25,
        contact=WelcomeContact(name="Agnete Friis", email="agnete@jystrup.example.dk"),
    )
    events = [
        Envelope.wrap(registered, source=SOURCE, time=WHEN).to_dict(),
        Envelope.wrap(
            CommunityCapacityChanged(community_id="old-dir-17", available=4, total=25, status="open"),
            source=SOURCE,
            time=WHEN,
        ).to_dict(),
        # bad: the community does not exist
        Envelope.wrap(
            CommunityUpdated(community_id="old-dir-99", name="Findes ikke"), source=SOURCE, time=WHEN
        ).to_dict(),
        Envelope.wrap(
            NeedRecorded(
                need_id="need-old-1",
                area="jystrup",
                category="social",
                description="Savner fællesskab i dagtimerne",
                recorded_by="system-jobcenter",
            ),
            source=SOURCE,
            time=WHEN,
        ).to_dict(),
    ]
    broken = dict(events[0], id="broken-1")
    broken["data"] = {"community_id": "x"}  # misses required fields
    return [*events, broken]


async def test_batch_with_one_bad_event_accepts_the_rest_and_is_idempotent(database_url: str, nats_clean: str) -> None:
    app = build(settings(database_url, nats_clean))
    batch = _batch()
    body = json.dumps(batch).encode()
    headers = {"content-type": BATCH_CONTENT_TYPE}
    async with ServedApp(app) as served, served.client(SYSTEM) as client:
        first = await client.post("/v1/events", content=body, headers=headers)
        assert first.status_code == 200, first.text
        answer = first.json()
        statuses = [r["status"] for r in answer["results"]]
        assert statuses == ["accepted", "accepted", "rejected", "accepted", "rejected"]
        assert "send CommunityRegistered first" in answer["results"][2]["reason"]
        assert answer["results"][4]["reason"].startswith("data.")

        async with served.client(token("guide")) as guide:
            community = (await guide.get("/v1/communities/old-dir-17")).json()
            assert community["capacity"] == {**community["capacity"], "total": 25, "available": 4, "status": "open"}
            assert community["contact"]["name"] == "Agnete Friis"
            assert community["organization"]["id"] == "old-org-3"
            assert community["updated_at"].startswith("2025-03-01T10:30")  # event time, shown in Copenhagen
            found = (await guide.get("/v1/communities", params={"q": "vandring jystrup"})).json()
            assert [i["id"] for i in found["items"]] == ["old-dir-17"]

        async def ingested() -> list[Envelope]:
            envelopes = await stream_events(nats_clean, "catalogue")
            return envelopes if len(envelopes) >= 3 else []

        envelopes = await eventually(ingested)
        assert [e.id for e in envelopes] == [batch[0]["id"], batch[1]["id"], batch[3]["id"]]

        second = await client.post("/v1/events", content=body, headers=headers)
        statuses = [r["status"] for r in second.json()["results"]]
        assert statuses == ["duplicate", "duplicate", "rejected", "duplicate", "rejected"]
        async with served.client(token("guide")) as guide:
            again = (await guide.get("/v1/communities/old-dir-17")).json()
            assert again == community
            assert (await guide.get("/v1/needs")).json()["total"] == 1

        # binary mode: one event in ce-* headers, the body is its data
        update = Envelope.wrap(
            CommunityUpdated(community_id="old-dir-17", name="Søndagsvandring"), source=SOURCE, time=WHEN
        )
        binary = await client.post(
            "/v1/events",
            content=json.dumps(update.data).encode(),
            headers={
                "content-type": "application/json",
                "ce-specversion": "1.0",
                "ce-id": update.id,
                "ce-source": SOURCE,
                "ce-type": update.type,
                "ce-time": "2025-03-01T09:31:00Z",
                "ce-subject": "old-dir-17",
            },
        )
        assert binary.json()["accepted"] == 1, binary.text

        assert len(await stream_events(nats_clean, "catalogue")) in (3, 4)  # nothing from the repeat

        async with served.client(token("guide")) as guide:
            refused = await guide.post("/v1/events", content=body, headers=headers)
            assert refused.status_code == 403


async def test_an_overlong_event_id_is_rejected_by_name_and_the_rest_kept(database_url: str, nats_clean: str) -> None:
    # Event ids are stored in 64-character columns; PostgreSQL refused a longer one deep in
    # the transaction and the whole request failed with a 500.
    app = build(settings(database_url, nats_clean))
    batch = _batch()[:2]
    batch[1] = {**batch[1], "id": "urn:kommune:329:directory:" + "x" * 60}
    async with ServedApp(app) as served, served.client(SYSTEM) as client:
        answer = await client.post(
            "/v1/events", content=json.dumps(batch).encode(), headers={"content-type": BATCH_CONTENT_TYPE}
        )
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["status"] for r in results] == ["accepted", "rejected"]
        assert results[1]["reason"].startswith("id:")
        assert "64" in results[1]["reason"]


async def test_an_overlong_identifier_in_the_payload_is_rejected_by_name(database_url: str, nats_clean: str) -> None:
    # Identifiers in payloads end up in 64-character key columns too.
    app = build(settings(database_url, nats_clean))
    registered = CommunityRegistered(
        community_id="old-directory-7",
        organization_id="old-org-3",
        name="Strikkeklub",
        categories=["creative"],
        area="benloese",
        kind="permanent",
        accepts_special_needs=False,
    )
    event = Envelope.wrap(registered, source=SOURCE, time=WHEN).to_dict()
    event["data"]["community_id"] = "old-directory-" + "7" * 60
    body = json.dumps(event).encode()
    async with ServedApp(app) as served, served.client(SYSTEM) as client:
        answer = await client.post("/v1/events", content=body, headers={"content-type": "application/cloudevents+json"})
        assert answer.status_code in (200, 422), answer.text
        text = answer.text
        assert "data.community_id" in text
        assert "64" in text


async def test_an_unknown_area_or_category_rejects_that_event_by_name(database_url: str, nats_clean: str) -> None:
    app = build(settings(database_url, nats_clean))

    def registered(community_id: str, area: str) -> dict[str, object]:
        event = CommunityRegistered(
            community_id=community_id,
            organization_id="old-org-3",
            name="Gåturen",
            categories=["nature"],
            area=area,
            kind="permanent",
            accepts_special_needs=False,
        )
        return Envelope.wrap(event, source=SOURCE, time=WHEN).to_dict()

    need = NeedRecorded(
        need_id="need-old-2", area="jystrup", category="knitting", description="Strik", recorded_by="system-jobcenter"
    )
    batch = [
        registered("old-dir-1", "Atlantis"),
        registered("old-dir-2", "benloese"),
        Envelope.wrap(need, source=SOURCE, time=WHEN).to_dict(),
        registered("old-dir-3", "Benløse"),
    ]
    async with ServedApp(app) as served, served.client(SYSTEM) as client:
        answer = await client.post(
            "/v1/events", content=json.dumps(batch).encode(), headers={"content-type": BATCH_CONTENT_TYPE}
        )
        results = answer.json()["results"]
        assert [r["status"] for r in results] == ["rejected", "accepted", "rejected", "rejected"]
        assert results[0]["reason"].startswith("data.area: unknown area 'Atlantis'; use one of ")
        assert "benloese" in results[0]["reason"]
        assert results[2]["reason"].startswith("data.category: unknown category 'knitting'; use one of ")
        # an event travels on as posted, so it must carry the code, not the Danish label
        assert results[3]["reason"] == "data.area: 'Benløse' is the label of area 'benloese'; events carry the code"

        async with served.client(token("guide")) as guide:
            stored = (await guide.get("/v1/communities/old-dir-2")).json()
            assert stored["location"]["area"] == "benloese"
            assert (await guide.get("/v1/communities/old-dir-1")).status_code == 404

        async def published() -> list[Envelope]:
            return await stream_events(nats_clean, "catalogue")

        envelopes = await eventually(published)
        # only the accepted event goes out, with the code
        assert [(e.subject, e.data["area"]) for e in envelopes] == [("old-dir-2", "benloese")]
