"""The catalogue over real HTTP, a real nats-server and SQLite + PostgreSQL."""

from __future__ import annotations

from typing import Any

import jsonschema

from services.catalogue.main import build
from shared.events import Envelope
from shared.events.referrals import ReferralCreated, ReferralRejected, WelcomeConfirmed
from tests.helpers import ServedApp, eventually, publish, stream_events, token
from tests.integration.catalogue.conftest import community_body, organization_body, reference, settings

GUIDE = token("guide", "guide-anne")
PROFESSIONAL = token("professional", "prof-mette")


def _types(envelopes: list[Envelope]) -> list[str]:
    return [e.type.split(".")[2] for e in envelopes]


async def test_community_lifecycle_publishes_events(database_url: str, nats_clean: str) -> None:
    cloudevents = reference("cloudevents-1.0", "cloudevents.json")
    app = build(settings(database_url, nats_clean))
    async with ServedApp(app) as served, served.client(GUIDE) as client:
        org = (await client.post("/v1/organizations", json=organization_body())).json()
        created = await client.post("/v1/communities", json=community_body(org["id"]))
        assert created.status_code == 201, created.text
        community = created.json()
        assert community["capacity"] == {**community["capacity"], "total": 20, "available": 5, "status": "open"}

        async def registered() -> list[Envelope]:
            return [e for e in await stream_events(nats_clean, "catalogue") if e.subject == community["id"]]

        envelopes = await eventually(registered)
        first = envelopes[0]
        assert first.type == "dk.vejviser.CommunityRegistered.v1"
        assert first.source == "/services/catalogue"
        jsonschema.validate(first.to_dict(), cloudevents, format_checker=jsonschema.FormatChecker())
        assert first.data["name"] == "Strikkeklubben Maskerne"
        assert first.data["area"] == "ringsted_midtby"
        assert first.data["organization_id"] == org["id"]
        assert first.data["contact"] == {
            "name": "Birthe Holm",
            "email": "birthe@maskerne.example.dk",
            "phone": "+45 20 11 22 33",
            "public": False,  # no consent given: staff see the person, the public feeds do not
        }
        assert first.data["capacity_total"] == 20

        # capacity change → event and status; the same report again changes nothing
        full = await client.put(f"/v1/communities/{community['id']}/capacity", json={"total": 20, "available": 0})
        assert full.status_code == 200, full.text
        assert full.json()["capacity"]["status"] == "full"
        assert full.json()["capacity"]["open_seats"] is False
        again = await client.put(f"/v1/communities/{community['id']}/capacity", json={"total": 20, "available": 0})
        assert again.status_code == 200

        async def capacity_events() -> list[Envelope]:
            found = [e for e in await registered() if e.type.endswith("CommunityCapacityChanged.v1")]
            return found if len(found) >= 2 else []

        changes = await eventually(capacity_events)
        assert [c.data["status"] for c in changes] == ["open", "full"]

        # an inconsistent report is refused with the field to fix
        bad = await client.put(
            f"/v1/communities/{community['id']}/capacity", json={"total": 10, "available": 3, "status": "full"}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["details"]["field"] == "status"

        # update → CommunityUpdated with the current description; archive → CommunityArchived
        patched = await client.patch(f"/v1/communities/{community['id']}", json={"name": "Maskerne strikkeklub"})
        assert patched.status_code == 200 and patched.json()["name"] == "Maskerne strikkeklub"
        archived = await client.post(f"/v1/communities/{community['id']}/archive")
        assert archived.json()["archived_at"] is not None
        late = await client.patch(f"/v1/communities/{community['id']}", json={"name": "Igen"})
        assert late.status_code == 409

        async def lifecycle() -> list[str]:
            kinds = _types(await registered())
            return kinds if "CommunityArchived" in kinds else []

        kinds = await eventually(lifecycle)
        assert kinds == [
            "CommunityRegistered",
            "CommunityCapacityChanged",
            "CommunityCapacityChanged",
            "CommunityUpdated",
            "CommunityArchived",
        ]
        updated = next(e for e in await registered() if e.type.endswith("CommunityUpdated.v1"))
        assert updated.data["name"] == "Maskerne strikkeklub" and updated.data["categories"] == ["creative", "social"]

        # archived communities leave the search
        listed = (await client.get("/v1/communities", params={"q": "maskerne"})).json()
        assert listed["total"] == 0


async def test_bad_input_roles_and_cpr(database_url: str, nats_clean: str) -> None:
    app = build(settings(database_url, nats_clean))
    async with ServedApp(app) as served, served.client(GUIDE) as client:
        org = (await client.post("/v1/organizations", json=organization_body())).json()

        missing = await client.post("/v1/communities", json={**community_body(org["id"]), "name": ""})
        assert missing.status_code == 422
        assert missing.json()["error"]["details"][0]["field"] == "name"

        category = await client.post("/v1/communities", json=community_body(org["id"], categories=["knitting"]))
        assert category.status_code == 422
        assert "use one of" in category.json()["error"]["message"]

        track = await client.post("/v1/communities", json=community_body(org["id"], kind="practice_track"))
        assert track.status_code == 422
        assert "starts_on" in track.json()["error"]["message"]

        cpr = await client.post(
            "/v1/communities", json=community_body(org["id"], description="Kontakt 010203-1234 for info")
        )
        assert cpr.status_code == 422
        body = cpr.json()["error"]
        assert body["details"][0]["field"] == "description" and "CPR" in body["message"]

        need_cpr = await client.post(
            "/v1/needs",
            json={"area": "Benløse", "category": "social", "description": "Borger 1203851234 mangler et fællesskab"},
        )
        assert need_cpr.status_code == 422

        unknown_org = await client.post("/v1/communities", json=community_body("no-such-org"))
        assert unknown_org.status_code == 404

        async with served.client(PROFESSIONAL) as professional:
            refused = await professional.post("/v1/communities", json=community_body(org["id"]))
            assert refused.status_code == 403
            assert "allowed roles: guide, admin" in refused.json()["error"]["message"]
            assert (await professional.get("/v1/communities")).status_code == 200
        async with served.client() as anonymous:
            assert (await anonymous.get("/v1/communities")).status_code == 401

        # nothing was half-written by the refused requests
        assert (await client.get("/v1/communities")).json()["total"] == 0


async def test_search_pending_referrals_needs_and_meetings(database_url: str, nats_clean: str) -> None:
    app = build(settings(database_url, nats_clean))
    async with ServedApp(app) as served, served.client(GUIDE) as client:
        org = (await client.post("/v1/organizations", json=organization_body())).json()
        knit = (await client.post("/v1/communities", json=community_body(org["id"]))).json()
        run = (
            await client.post(
                "/v1/communities",
                json=community_body(
                    org["id"],
                    name="Ringsted Løbeklub",
                    description="Motionsløb for alle",
                    categories=["sport"],
                    accepts_special_needs=False,
                    schedules=[{"weekday": "mon", "opens_at": "17:00", "closes_at": "18:00"}],
                    location={"area": "Benløse", "latitude": 55.4622, "longitude": 11.7731},
                    capacity={"total": 30, "available": 0, "status": "waitlist"},
                ),
            )
        ).json()

        async def search(**params: Any) -> list[str]:
            response = await client.get("/v1/communities", params=params)
            assert response.status_code == 200, response.text
            return [item["name"] for item in response.json()["items"]]

        assert await search(q="løb") == ["Ringsted Løbeklub"]
        assert await search(q="lob") == ["Ringsted Løbeklub"]
        assert await search(q="strikke") == ["Strikkeklubben Maskerne"]
        assert await search(q="strikkeklubberne") == ["Strikkeklubben Maskerne"]
        assert await search(open_seats="true") == ["Strikkeklubben Maskerne"]
        assert await search(area="Benløse") == ["Ringsted Løbeklub"]
        assert await search(weekday="mon") == ["Ringsted Løbeklub"]
        assert await search(category="creative") == ["Strikkeklubben Maskerne"]
        assert await search(accepts_special_needs="false") == ["Ringsted Løbeklub"]
        assert await search(lat=55.4622, lon=11.7731, within_km=1) == ["Ringsted Løbeklub"]
        assert await search() == ["Strikkeklubben Maskerne", "Ringsted Løbeklub"]  # open seats first
        page = (await client.get("/v1/communities", params={"per_page": 1, "page": 2})).json()
        assert (page["total"], page["pages"], [i["name"] for i in page["items"]]) == (2, 2, ["Ringsted Løbeklub"])
        lonely = await client.get("/v1/communities", params={"lat": 55.4})
        assert lonely.status_code == 422 and lonely.json()["error"]["details"]["field"] == "lon"
        assert (await client.get("/v1/communities", params={"weekday": "monday"})).status_code == 422

        # referral events from the referrals stream → pending referrals per community
        source = "/services/referrals"
        created = [
            Envelope.wrap(
                ReferralCreated(
                    referral_id=f"r{i}", citizen_ref=f"c{i}", community_id=knit["id"], referrer_id="guide-anne"
                ),
                source=source,
            )
            for i in range(3)
        ]
        await publish(nats_clean, *created, created[0])  # a redelivery has no second effect

        async def pending() -> int:
            items = (await client.get("/v1/communities", params={"q": "strikke"})).json()["items"]
            return int(items[0]["pending_referrals"]) if items else 0

        assert await eventually(lambda: _equals(pending, 3))
        await publish(
            nats_clean,
            Envelope.wrap(ReferralRejected(referral_id="r0", reason="full"), source=source),
            Envelope.wrap(
                WelcomeConfirmed(referral_id="r1", community_id=knit["id"], confirmed_by="contact-strikkeklub"),
                source=source,
            ),
        )
        assert await eventually(lambda: _equals(pending, 1))
        one = (await client.get(f"/v1/communities/{knit['id']}")).json()
        assert one["pending_referrals"] == 1 and one["schedules"][0]["text_da"] == "Hver tirsdag kl. 14.00–16.00"

        # needs register and network meetings
        need = await client.post(
            "/v1/needs",
            json={"area": "Benløse", "category": "sport", "description": "Flere efterspørger motion om aftenen"},
        )
        assert need.status_code == 201 and need.json()["recorded_by"] == "guide-anne"
        listed = (await client.get("/v1/needs", params={"area": "benløse"})).json()
        assert listed["total"] == 1 and listed["items"][0]["category"] == "sport"
        meeting = await client.post(
            "/v1/network-meetings",
            json={"held_on": "2025-03-12", "topic": "Godt velkommen", "organization_ids": [org["id"]]},
        )
        assert meeting.status_code == 201, meeting.text
        unknown = await client.post(
            "/v1/network-meetings",
            json={"held_on": "2025-03-12", "topic": "Godt velkommen", "organization_ids": ["nope"]},
        )
        assert unknown.status_code == 422

        categories = {c["id"]: c["communities"] for c in (await client.get("/v1/categories")).json()}
        assert categories["creative"] == 1 and categories["sport"] == 1 and categories["food"] == 0

        async def published() -> list[str]:
            kinds = _types(await stream_events(nats_clean, "catalogue"))
            return kinds if "NetworkMeetingHeld" in kinds and "NeedRecorded" in kinds else []

        await eventually(published)
        assert run["capacity"]["status"] == "waitlist"


async def _equals(check: Any, expected: int) -> bool:
    return bool(await check() == expected)


async def test_areas_and_categories_are_the_profiles_codes_with_danish_labels(
    database_url: str, nats_clean: str
) -> None:
    app = build(settings(database_url, nats_clean))
    async with ServedApp(app) as served, served.client(GUIDE) as client:
        org = (await client.post("/v1/organizations", json=organization_body())).json()

        unknown = await client.post("/v1/communities", json=community_body(org["id"], location={"area": "Atlantis"}))
        assert unknown.status_code == 422
        error = unknown.json()["error"]
        assert error["message"].startswith("location.area: unknown area 'Atlantis'; use one of ")
        assert "vestervang" in error["message"] and "roennebaerparken" in error["details"]["allowed"]

        # a Danish label is taken and stored as its code; answers show the labels beside the codes
        created = await client.post(
            "/v1/communities",
            json=community_body(
                org["id"],
                name="Fællesspisning i Rønnebærparken",
                description="Vi laver mad og spiser sammen.",
                categories=["Mad og fællesspisning", "social"],
                location={"area": "Rønnebærparken"},
            ),
        )
        assert created.status_code == 201, created.text
        community = created.json()
        assert community["location"]["area"] == "roennebaerparken"
        assert community["location"]["area_label"] == "Rønnebærparken"
        assert community["categories"] == ["food", "social"]
        assert community["category_labels"] == ["Mad og fællesspisning", "Socialt samvær"]
        assert community["capacity"]["status_label"] == "Ledige pladser"

        async def registered() -> list[Envelope]:
            return [e for e in await stream_events(nats_clean, "catalogue") if e.subject == community["id"]]

        assert (await eventually(registered))[0].data["area"] == "roennebaerparken"

        # the search filter takes codes (or labels); the profile's synonyms find each other
        found = (await client.get("/v1/communities", params={"area": "roennebaerparken", "q": "spiseklub"})).json()
        assert [i["id"] for i in found["items"]] == [community["id"]]
        assert (await client.get("/v1/communities", params={"area": "atlantis"})).status_code == 422

        areas = {a["code"]: a for a in (await client.get("/v1/areas")).json()}
        assert areas["roennebaerparken"] == {**areas["roennebaerparken"], "label": "Rønnebærparken", "communities": 1}
        assert areas["benloese"]["communities"] == 0 and areas["vestervang"]["kind"] == "housing"

        need = await client.post(
            "/v1/needs", json={"area": "Atlantis", "category": "social", "description": "Savner et fællesskab"}
        )
        assert need.status_code == 422 and "use one of" in need.json()["error"]["message"]
        need = await client.post(
            "/v1/needs", json={"area": "Vestervang", "category": "Socialt samvær", "description": "Savner samvær"}
        )
        assert need.status_code == 201, need.text
        assert (need.json()["area"], need.json()["area_label"], need.json()["category"]) == (
            "vestervang",
            "Vestervang",
            "social",
        )
        assert (await client.get("/v1/needs", params={"area": "vestervang"})).json()["total"] == 1
        assert (await client.get("/v1/needs", params={"area": "Atlantis"})).status_code == 422
