"""The HSDS 3.0 read operations beyond services and organisations, over real HTTP (SQLite and
PostgreSQL): `/taxonomies` and `/service_at_locations`, each answer validated against the
official schema, paged as the API reference pages, filtered by its parameters, with no contact
person who did not consent, 404 for an unknown id, 422 for bad paging, and rate-limited."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.catalogue.main import build
from tests.helpers import ServedApp, token
from tests.integration.catalogue.conftest import community_body, organization_body, reference, settings
from tests.integration.catalogue.test_hsds import Schemas

GUIDE = token("guide", "guide-anne")
PRIVATE = {"name": "Birthe Holm", "email": "birthe@maskerne.example.dk", "phone": "+45 20 11 22 33"}
PUBLIC = {"name": "Jens Lund", "email": "jens@loeb.example.dk", "phone": "+45 30 44 55 66", "public": True}
BAD_PAGING = [{"page": 0}, {"page": "one"}, {"per_page": 0}, {"per_page": 201}, {"page": 100_001}]


def only_schema_fields(record: dict[str, Any], schema: dict[str, Any]) -> None:
    """Nothing beyond what the schema names (the schemas allow more, consumers do not expect it)."""
    assert set(record) <= set(schema["properties"]), set(record) - set(schema["properties"])


async def pages(client: httpx.AsyncClient, path: str, per_page: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, walked as a consumer does: until `last_page`."""
    found, number = [], 1
    while True:
        response = await client.get(path, params={**params, "page": number, "per_page": per_page})
        assert response.status_code == 200, response.text
        found.append(response.json())
        if response.json()["last_page"]:
            return found
        number += 1


async def service_ids_at_locations(client: httpx.AsyncClient, **params: Any) -> set[str]:
    body = (await client.get("/hsds/service_at_locations", params={**params, "per_page": 200})).json()
    assert body["total_items"] == len(body["contents"]), body
    return {item["service_id"] for item in body["contents"]}


async def make_catalogue(guide: httpx.AsyncClient) -> dict[str, str]:
    """Two organisations, four active communities (one a practice track, one whose contact
    person consented to be public) and an archived one; their HSDS ids by name ("knitters"
    and "runners" for the organisations)."""
    knitters = (await guide.post("/v1/organizations", json=organization_body())).json()
    runners = (
        await guide.post("/v1/organizations", json=organization_body(name="Ringsted Løbeklub", email="info@loeb.dk"))
    ).json()
    made: dict[str, str] = {}
    for org, name, overrides in (
        (knitters, "Strikkeklubben Maskerne", {"contact": PRIVATE}),
        (knitters, "Fællesspisning i Benløse", {"categories": ["food", "social"], "contact": PRIVATE}),
        (runners, "Løbeklubben", {"categories": ["sport"], "contact": PUBLIC}),
        (
            runners,
            "Gå-øvebanen",
            {"kind": "practice_track", "starts_on": "2025-01-06", "ends_on": "2025-03-31", "categories": ["sport"]},
        ),
        (knitters, "Gammel klub", {"contact": PRIVATE}),
    ):
        body = community_body(org["id"], name=name, description=f"{name}: alle er velkomne", **overrides)
        response = await guide.post("/v1/communities", json=body)
        assert response.status_code == 201, response.text
        made[name] = response.json()["hsds_id"]
        if name == "Gammel klub":
            archived = await guide.post(f"/v1/communities/{response.json()['id']}/archive")
            assert archived.status_code == 200, archived.text
    return made | {"knitters": knitters["hsds_id"], "runners": runners["hsds_id"]}


async def test_service_at_locations_page_filter_validate_and_hide_private_contacts(
    database_url: str, nats_clean: str
) -> None:
    schemas = Schemas()
    listed_schema = reference("hsds-3.0", "service_at_location_list.json")
    full_schema = reference("hsds-3.0", "service_at_location.json")
    app = build(settings(database_url, nats_clean, hsds_burst=100_000))
    async with ServedApp(app) as served, served.client(GUIDE) as guide, served.client() as public:
        ids = await make_catalogue(guide)
        active = {ids[n] for n in ("Strikkeklubben Maskerne", "Fællesspisning i Benløse", "Løbeklubben", "Gå-øvebanen")}

        # paging: the four active communities, three to a page
        walked = await pages(public, "/hsds/service_at_locations", per_page=3)
        assert [(p["page_number"], p["size"], p["first_page"], p["last_page"]) for p in walked] == [
            (1, 3, True, False),
            (2, 1, False, True),
        ]
        assert {(p["total_items"], p["total_pages"], p["empty"]) for p in walked} == {(4, 2, False)}
        for body in walked:
            schemas.check_page(body, listed_schema)
            for item in body["contents"]:
                only_schema_fields(item, listed_schema)
                only_schema_fields(item["location"], listed_schema["properties"]["location"])
                only_schema_fields(item["service"], listed_schema["properties"]["service"])
                assert item["service"]["id"] == item["service_id"] and item["location"]["id"] == item["location_id"]
        listed = [item for body in walked for item in body["contents"]]
        assert {item["service_id"] for item in listed} == active  # the archived one is not listed
        assert len({item["id"] for item in listed}) == 4
        beyond = (await public.get("/hsds/service_at_locations", params={"page": 3, "per_page": 3})).json()
        assert beyond["contents"] == [] and beyond["last_page"] and not beyond["empty"] and beyond["total_items"] == 4

        # each one fully nested, the same ids the service's own record gives
        for item in listed:
            response = await public.get(f"/hsds/service_at_locations/{item['id']}")
            assert response.status_code == 200, response.text
            full = response.json()
            schemas.check(full, full_schema)
            only_schema_fields(full, full_schema)
            only_schema_fields(full["service"], full_schema["properties"]["service"])
            assert full["service"]["name"] == item["service"]["name"]
            service = (await public.get(f"/hsds/services/{item['service_id']}")).json()
            [at] = service["service_at_locations"]
            assert (at["id"], at["location_id"], at["location"]) == (full["id"], full["location_id"], full["location"])
            assert full["service"]["contacts"] == service["contacts"]
            assert full["location"]["addresses"][0]["address_1"] == "Nørregade 2"
            # the contact person who did not consent is nowhere, the organisation answers instead
            private_details = [detail for detail in PRIVATE.values() if detail in response.text]
            if item["service_id"] == ids["Løbeklubben"]:
                assert [c["title"] for c in full["service"]["contacts"]] == ["Velkomstkontakt"]
                assert full["service"]["contacts"][0]["name"] == PUBLIC["name"]
                assert full["service"]["email"] == PUBLIC["email"]
            else:
                assert private_details == []
                assert {c["title"] for c in full["service"]["contacts"]} <= {"Arrangør"}
        list_text = "".join(str(body) for body in walked)
        assert not [detail for detail in PRIVATE.values() if detail in list_text]

        # consent withdrawn: the person leaves the public feed at once
        runners_community = (await guide.get("/v1/communities", params={"q": "Løbeklubben"})).json()["items"][0]
        withdrawn = await guide.patch(
            f"/v1/communities/{runners_community['id']}", json={"contact": {**PUBLIC, "public": False}}
        )
        assert withdrawn.status_code == 200, withdrawn.text
        runners_sal = next(item["id"] for item in listed if item["service_id"] == ids["Løbeklubben"])
        after = await public.get(f"/hsds/service_at_locations/{runners_sal}")
        assert after.status_code == 200
        assert not [detail for detail in (PUBLIC["name"], PUBLIC["email"], PUBLIC["phone"]) if detail in after.text]
        listed_after = (await public.get("/hsds/service_at_locations", params={"search": "løbeklub"})).text
        assert PUBLIC["email"] not in listed_after and "info@loeb.dk" in listed_after

        # the filters the reference defines
        terms = (await public.get("/hsds/taxonomy_terms", params={"per_page": 200})).json()["contents"]
        term = {t["code"]: t for t in terms}
        assert await service_ids_at_locations(public, taxonomy_term_id=term["food"]["id"]) == {
            ids["Fællesspisning i Benløse"]
        }
        assert await service_ids_at_locations(public, taxonomy_term_id=term["practice_track"]["id"]) == {
            ids["Gå-øvebanen"]
        }
        assert await service_ids_at_locations(public, taxonomy_id=term["practice_track"]["taxonomy_id"]) == {
            ids["Gå-øvebanen"]
        }
        assert await service_ids_at_locations(public, taxonomy_id=term["food"]["taxonomy_id"]) == active
        both = {"taxonomy_term_id": term["sport"]["id"], "taxonomy_id": term["practice_track"]["taxonomy_id"]}
        assert await service_ids_at_locations(public, **both) == {ids["Gå-øvebanen"]}
        assert await service_ids_at_locations(public, organization_id=ids["runners"]) == {
            ids["Løbeklubben"],
            ids["Gå-øvebanen"],
        }
        assert await service_ids_at_locations(public, search="strikke") == {ids["Strikkeklubben Maskerne"]}
        assert await service_ids_at_locations(public, modified_after="2000-01-01T00:00:00Z") == active
        for nothing in (
            {"modified_after": "2999-01-01T00:00:00Z"},
            {"taxonomy_term_id": str(uuid.uuid4())},
            {"taxonomy_id": str(uuid.uuid4())},
            {"organization_id": str(uuid.uuid4())},
            {"search": "zzzyxq"},
        ):
            body = (await public.get("/hsds/service_at_locations", params=nothing)).json()
            schemas.check_page(body, listed_schema)
            assert (body["total_items"], body["empty"], body["total_pages"], body["last_page"]) == (0, True, 1, True)
        # /services takes taxonomy_id the same way
        by_taxonomy = (
            await public.get("/hsds/services", params={"taxonomy_id": term["practice_track"]["taxonomy_id"]})
        ).json()
        assert [s["id"] for s in by_taxonomy["contents"]] == [ids["Gå-øvebanen"]]

        # the archived community keeps its service at location, inactive, but is not listed
        archived = (await public.get(f"/hsds/services/{ids['Gammel klub']}")).json()
        archived_at = await public.get(f"/hsds/service_at_locations/{archived['service_at_locations'][0]['id']}")
        assert archived_at.status_code == 200 and archived_at.json()["service"]["status"] == "inactive"
        assert PRIVATE["name"] not in archived_at.text

        for unknown in (str(uuid.uuid4()), "not-a-uuid", ids["Løbeklubben"]):  # a service id is not one
            missing = await public.get(f"/hsds/service_at_locations/{unknown}")
            assert missing.status_code == 404
            assert "no HSDS service at location" in missing.json()["error"]["message"]
        for params in BAD_PAGING:
            bad = await public.get("/hsds/service_at_locations", params=params)
            assert bad.status_code == 422, params
            assert bad.json()["error"]["message"]
        too_long = await public.get("/hsds/service_at_locations", params={"taxonomy_id": "x" * 101})
        assert too_long.status_code == 422


async def test_taxonomies_list_page_and_own_every_term(sqlite_url: str, nats_clean: str) -> None:
    """The vocabulary comes from the profile, not the database: SQLite alone shows it."""
    schemas = Schemas()
    taxonomy_schema = reference("hsds-3.0", "taxonomy.json")
    app = build(settings(sqlite_url, nats_clean, hsds_burst=100_000))
    async with ServedApp(app) as served, served.client() as public:
        walked = await pages(public, "/hsds/taxonomies", per_page=1)
        assert [(p["page_number"], p["size"], p["first_page"], p["last_page"]) for p in walked] == [
            (1, 1, True, False),
            (2, 1, False, True),
        ]
        assert {(p["total_items"], p["total_pages"], p["empty"]) for p in walked} == {(2, 2, False)}
        taxonomies = {}
        for body in walked:
            schemas.check_page(body, taxonomy_schema)
            for taxonomy in body["contents"]:
                only_schema_fields(taxonomy, taxonomy_schema)
                taxonomies[taxonomy["id"]] = taxonomy
        one_page = (await public.get("/hsds/taxonomies")).json()
        assert {t["id"] for t in one_page["contents"]} == set(taxonomies) and one_page["last_page"]

        for taxonomy_id, listed in taxonomies.items():
            response = await public.get(f"/hsds/taxonomies/{taxonomy_id}")
            assert response.status_code == 200 and response.json() == listed
            schemas.check(listed, taxonomy_schema)
            assert uuid.UUID(taxonomy_id) and listed["version"] and listed["uri"].startswith("http")
            assert listed["uri"].endswith(f"/hsds/taxonomies/{taxonomy_id}")
            assert (await public.get(f"/hsds/taxonomies/{taxonomy_id.upper()}")).json() == listed

        terms = (await public.get("/hsds/taxonomy_terms", params={"per_page": 200})).json()["contents"]
        for term in terms:  # every term points at one of the taxonomies, by id and by name
            schemas.check(term, schemas.term)
            assert term["taxonomy"] == taxonomies[term["taxonomy_id"]]["name"]
        by_taxonomy = {
            taxonomy_id: (await public.get("/hsds/taxonomy_terms", params={"taxonomy_id": taxonomy_id})).json()
            for taxonomy_id in taxonomies
        }
        assert sorted(len(page["contents"]) for page in by_taxonomy.values()) == [1, len(terms) - 1]
        assert sorted(t["id"] for page in by_taxonomy.values() for t in page["contents"]) == sorted(
            t["id"] for t in terms
        )
        kinds = next(page for page in by_taxonomy.values() if page["total_items"] == 1)["contents"]
        assert [t["code"] for t in kinds] == ["practice_track"]
        searched = (await public.get("/hsds/taxonomies", params={"search": "KATEGORIER"})).json()
        assert [t["name"] for t in searched["contents"]] == ["Vejviser fællesskabskategorier"]
        food = (await public.get("/hsds/taxonomy_terms", params={"search": "food"})).json()
        assert [t["code"] for t in food["contents"]] == ["food"]

        missing = await public.get(f"/hsds/taxonomies/{uuid.uuid4()}")
        assert missing.status_code == 404 and "no taxonomy" in missing.json()["error"]["message"]
        for params in BAD_PAGING:
            assert (await public.get("/hsds/taxonomies", params=params)).status_code == 422, params

    # the same ids from a fresh start: other directories may keep them
    app = build(settings(sqlite_url, nats_clean, hsds_burst=100_000))
    async with ServedApp(app) as again, again.client() as public:
        assert {t["id"] for t in (await public.get("/hsds/taxonomies")).json()["contents"]} == set(taxonomies)


async def test_new_hsds_reads_share_the_public_rate_limit(sqlite_url: str, nats_clean: str) -> None:
    app = build(settings(sqlite_url, nats_clean, hsds_burst=2, hsds_rate_per_second=0.01))
    async with ServedApp(app) as served, served.client() as public:
        first = (await public.get("/hsds/taxonomies")).json()["contents"][0]["id"]
        assert (await public.get("/hsds/service_at_locations")).status_code == 200
        # the bucket is empty: every new read is refused, an unknown id before its 404
        for path in (
            "/hsds/taxonomies",
            f"/hsds/taxonomies/{first}",
            "/hsds/service_at_locations",
            f"/hsds/service_at_locations/{uuid.uuid4()}",
        ):
            limited = await public.get(path)
            assert limited.status_code == 429, path
            assert int(limited.headers["retry-after"]) >= 1 and "try again" in limited.json()["error"]["message"]
