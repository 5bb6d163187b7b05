"""The HSDS 3.0 exchange: every /hsds answer validates against the official schemas; the
admin's import of another directory's services; the demo catalogue; the rate limit."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.catalogue.main import build
from shared.demo import DEMO_CONTACT_COMMUNITY_ID
from tests.helpers import ServedApp, eventually, stream_events, token
from tests.integration.catalogue.conftest import reference, settings

FORMATS = jsonschema.FormatChecker()


class Schemas:
    def __init__(self) -> None:
        openapi = reference("hsds-3.0", "openapi.json")
        self.page = openapi["components"]["schemas"]["Page"]
        self.meta = openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        self.service = reference("hsds-3.0", "service.json")
        self.service_list = reference("hsds-3.0", "service_list.json")
        self.organization = reference("hsds-3.0", "organization.json")
        self.organization_list = reference("hsds-3.0", "organization_list.json")
        self.term = reference("hsds-3.0", "taxonomy_term.json")
        self.service_at_location = reference("hsds-3.0", "service_at_location.json")
        self.service_at_location_list = reference("hsds-3.0", "service_at_location_list.json")
        self.registry: Registry = Registry().with_resources(
            [
                (name, Resource.from_contents(reference("hsds-3.0", name), default_specification=DRAFT202012))
                for name in ("taxonomy.json", "metadata.json")
            ]
        )

    def check(self, instance: Any, schema: dict[str, Any]) -> None:
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry, format_checker=FORMATS)
        validator.validate(instance)

    def check_page(self, body: dict[str, Any], item_schema: dict[str, Any]) -> None:
        assert set(self.page["properties"]) | {"contents"} == set(body)
        self.check(body, {"allOf": [self.page], "properties": {"contents": {"type": "array", "items": item_schema}}})


async def test_every_hsds_answer_validates_and_import_works(database_url: str, nats_clean: str) -> None:
    schemas = Schemas()
    example = reference("hsds-3.0", "example_service_full.json")
    app = build(settings(database_url, nats_clean, demo=True, hsds_burst=100_000))
    async with ServedApp(app) as served, served.client() as public, served.client(token("guide")) as guide:
        assert (await public.get("/readyz")).status_code == 200

        async def seeded() -> int:
            total = (await guide.get("/v1/communities", params={"per_page": 1})).json()["total"]
            return int(total) if total >= 61 else 0

        assert await eventually(seeded, timeout=30) == 61
        first = (await guide.get(f"/v1/communities/{DEMO_CONTACT_COMMUNITY_ID}")).json()
        assert first["name"] == "Strikkeklubben Maskerne"
        practice = (await guide.get("/v1/communities", params={"kind": "practice_track", "q": "fællesspisning"})).json()
        assert "Fællesspisning i Benløse" in [i["name"] for i in practice["items"]]

        # Needs and the network meeting are seeded after the communities: wait for the end.
        async def meetings() -> list[dict[str, object]]:
            return list((await guide.get("/v1/network-meetings")).json())

        assert (await eventually(meetings, timeout=30))[0]["organization_ids"]
        assert (await guide.get("/v1/needs")).json()["total"] == 5

        meta = await public.get("/hsds/")
        assert meta.status_code == 200
        schemas.check(meta.json(), schemas.meta)

        service_ids: list[str] = []
        page_number, pages = 1, 1
        while page_number <= pages:
            body = (await public.get("/hsds/services", params={"page": page_number, "per_page": 25})).json()
            schemas.check_page(body, schemas.service_list)
            service_ids += [s["id"] for s in body["contents"]]
            pages, page_number = body["total_pages"], page_number + 1
        assert len(service_ids) == len(set(service_ids)) == 61
        # the demo contact persons who did not consent, as staff see them
        staff_view = (await guide.get("/v1/communities", params={"per_page": 100})).json()["items"]
        private = {
            detail for item in staff_view if not item["contact"]["public"] for detail in item["contact"].values()
        } - {False}
        assert "Birthe Holm" in private and len(private) > 3 * 10
        titles: set[str] = set()
        for service_id in service_ids:
            response = await public.get(f"/hsds/services/{service_id}")
            assert response.status_code == 200
            schemas.check(response.json(), schemas.service)
            # a contact person who did not consent is nowhere in the public feed
            assert not [detail for detail in private if detail in response.text], service_id
            titles |= {contact["title"] for contact in response.json()["contacts"]}
        assert titles == {"Velkomstkontakt", "Arrangør"}  # the demo shows both cases

        # each community at its place: the same 61, and no contact person without consent
        at_locations: list[dict[str, Any]] = []
        page_number, pages = 1, 1
        while page_number <= pages:
            params = {"page": page_number, "per_page": 25}
            body = (await public.get("/hsds/service_at_locations", params=params)).json()
            schemas.check_page(body, schemas.service_at_location_list)
            at_locations += body["contents"]
            pages, page_number = body["total_pages"], page_number + 1
        assert sorted(item["service_id"] for item in at_locations) == sorted(service_ids)
        assert len({item["id"] for item in at_locations}) == 61
        for item in at_locations:
            response = await public.get(f"/hsds/service_at_locations/{item['id']}")
            assert response.status_code == 200
            schemas.check(response.json(), schemas.service_at_location)
            assert not [detail for detail in private if detail in response.text], item["id"]

        terms = (await public.get("/hsds/taxonomy_terms")).json()
        schemas.check_page(terms, schemas.term)
        food = next(t["id"] for t in terms["contents"] if t["code"] == "food")
        by_term = (await public.get("/hsds/services", params={"taxonomy_term_id": food, "per_page": 100})).json()
        schemas.check_page(by_term, schemas.service_list)
        assert 0 < by_term["total_items"] < 61
        searched = (await public.get("/hsds/services", params={"search": "strikke"})).json()
        schemas.check_page(searched, schemas.service_list)
        assert "Strikkeklubben Maskerne" in [s["name"] for s in searched["contents"]]
        future = (await public.get("/hsds/services", params={"modified_after": "2999-01-01T00:00:00Z"})).json()
        schemas.check_page(future, schemas.service_list)
        assert future["empty"] is True and future["total_items"] == 0

        orgs = (await public.get("/hsds/organizations", params={"per_page": 100})).json()
        schemas.check_page(orgs, schemas.organization_list)
        for org in orgs["contents"]:
            full = (await public.get(f"/hsds/organizations/{org['id']}")).json()
            schemas.check(full, schemas.organization)
            mine = (await public.get("/hsds/services", params={"organization_id": org["id"], "per_page": 100})).json()
            schemas.check_page(mine, schemas.service_list)
            assert {s["id"] for s in mine["contents"]} == {s["id"] for s in full["services"]}
        assert (await public.get("/hsds/services/not-a-service")).status_code == 404

        # import: the official full example, a broken record and a CPR-carrying one
        broken = {"id": "not-a-uuid", "name": "Ødelagt", "status": "active"}
        cpr = copy.deepcopy(example) | {
            "id": "0b5b6c1e-3f7e-4b3a-9c55-6d1c1e2f3a4b",
            "description": "Ring til 010203-1234",
        }
        second = copy.deepcopy(example) | {"id": "6a1d3b0e-5b7c-4f5e-8a9b-1c2d3e4f5a6b", "name": "Rådgivning"}
        async with served.client(token("admin")) as admin:
            response = await admin.post("/v1/hsds/import", json=[example, broken, cpr, second])
            assert response.status_code == 200, response.text
            report = response.json()
            assert [r["status"] for r in report["results"]] == ["created", "rejected", "rejected", "created"]
            assert report["results"][1]["reason"].startswith("id:")
            assert "CPR" in report["results"][2]["reason"]
            assert any("not on Earth" in w for w in report["results"][0]["warnings"])
            # its region is not one of our areas: filed under the profile's first, and said so
            assert any("'MyRegion'" in w and "ringsted_midtby" in w for w in report["results"][0]["warnings"])
            again = (await admin.post("/v1/hsds/import", json={"services": [example]})).json()
            assert again["results"][0]["status"] == "unchanged"
            renamed = (await admin.post("/v1/hsds/import", json=[example | {"name": "Community Counselling 2"}])).json()
            assert renamed["results"][0]["status"] == "updated"
            assert (await guide.post("/v1/hsds/import", json=[example])).status_code == 403

        imported = (await guide.get(f"/v1/communities/{example['id']}")).json()
        assert imported["name"] == "Community Counselling 2"
        assert "health" in imported["categories"]
        assert imported["contact"]["name"] == "Ann Persona"
        assert imported["min_age"] == 12 and imported["location"]["area"] == "ringsted_midtby"
        response = await public.get(f"/hsds/services/{example['id']}")
        schemas.check(response.json(), schemas.service)
        # HSDS carries no consent: the imported contact person is staff-only here
        assert imported["contact"]["public"] is False and "Ann Persona" not in response.text
        assert (await guide.get("/v1/communities/0b5b6c1e-3f7e-4b3a-9c55-6d1c1e2f3a4b")).status_code == 404

        async def published() -> list[str]:
            subjects = [
                e.subject
                for e in await stream_events(nats_clean, "catalogue")
                if e.type.endswith("CommunityRegistered.v1")
            ]
            return subjects if len(subjects) >= 63 else []

        subjects = await eventually(published, timeout=20)
        assert DEMO_CONTACT_COMMUNITY_ID in subjects and example["id"] in subjects


async def test_public_hsds_api_is_rate_limited(sqlite_url: str, nats_clean: str) -> None:
    app = build(settings(sqlite_url, nats_clean, hsds_burst=3, hsds_rate_per_second=0.01))
    async with ServedApp(app) as served, served.client() as public:
        answers = [await public.get("/hsds/taxonomy_terms") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[3].headers["retry-after"]) >= 1
        assert "try again" in answers[3].json()["error"]["message"]


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(sqlite_url: str, nats_clean: str) -> None:
    # The test talks from 127.0.0.1: here that is the proxy the municipality runs.
    app = build(settings(sqlite_url, nats_clean, hsds_burst=2, hsds_rate_per_second=0.01, trusted_proxies="127.0.0.1"))
    async with ServedApp(app) as served, served.client() as proxy:

        async def statuses(client_ip: str, count: int) -> list[int]:
            headers = {"X-Forwarded-For": client_ip}
            return [(await proxy.get("/hsds/taxonomy_terms", headers=headers)).status_code for _ in range(count)]

        assert await statuses("198.51.100.1", 3) == [200, 200, 429]
        assert await statuses("198.51.100.2", 2) == [200, 200]  # another user behind the same proxy
        # A client's own X-Forwarded-For before the proxy's entry changes nothing.
        assert await statuses("203.0.113.66, 198.51.100.1", 1) == [429]


async def test_without_trusted_proxies_a_forwarded_header_is_no_way_round_the_limit(
    sqlite_url: str, nats_clean: str
) -> None:
    app = build(settings(sqlite_url, nats_clean, hsds_burst=2, hsds_rate_per_second=0.01))
    async with ServedApp(app) as served, served.client() as public:
        answers = [
            await public.get("/hsds/taxonomy_terms", headers={"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
