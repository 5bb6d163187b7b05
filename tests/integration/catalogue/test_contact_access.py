"""A community's contact person over real HTTP (SQLite + PostgreSQL): found by their e-mail
(guides and admins only), reporting seats for their own communities only; personal data that no
answer without a token shows unless they consented, that every token holder sees, and that they
correct and remove themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import iter_route_contexts

from services.catalogue.domain import hsds_id_for
from services.catalogue.main import build
from shared.events import BATCH_CONTENT_TYPE, Envelope, Event
from shared.events.catalogue import CommunityRegistered, CommunityUpdated, WelcomeContact
from shared.principal import Role
from tests.helpers import ServedApp, eventually, stream_events, token
from tests.integration.catalogue.conftest import community_body, organization_body, settings

GUIDE = token("guide", "guide-anne")
ADMIN = token("admin", "vejviser-web-login")
PROFESSIONAL = token("professional", "prof-mette")
CONTACT = {"name": "Birthe Holm", "email": "Birthe@Maskerne.example.dk", "phone": "+45 20 11 22 33"}


async def test_communities_by_contact_email_are_found_exactly_and_only_by_guides_and_admins(
    database_url: str, nats_clean: str
) -> None:
    async with ServedApp(build(settings(database_url, nats_clean))) as served, served.client(GUIDE) as client:
        org = (await client.post("/v1/organizations", json=organization_body())).json()
        ids = []
        for name, contact in (
            ("Strikkeklubben Maskerne", CONTACT),
            ("Hæklecaféen", {**CONTACT, "email": "birthe@maskerne.example.dk"}),
            ("Løbeklubben", {**CONTACT, "email": "birthe@maskerne.example.dk.other"}),
        ):
            made = await client.post("/v1/communities", json=community_body(org["id"], name=name, contact=contact))
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        archived = (await client.post("/v1/communities", json=community_body(org["id"], name="Gammel klub"))).json()
        await client.post(f"/v1/communities/{archived['id']}/archive")

        async with served.client(ADMIN) as admin:
            found = await admin.get("/v1/communities", params={"contact_email": " BIRTHE@maskerne.example.dk"})
        assert found.status_code == 200, found.text
        assert {item["id"] for item in found.json()["items"]} == set(ids[:2])  # not the archived one
        assert found.json()["total"] == 2

        unknown = await client.get("/v1/communities", params={"contact_email": "nobody@example.dk"})
        assert unknown.json()["total"] == 0
        empty = await client.get("/v1/communities", params={"contact_email": ""})
        assert empty.status_code == 422 and empty.json()["error"]["details"]["field"] == "contact_email"

        async with served.client(PROFESSIONAL) as professional:
            refused = await professional.get("/v1/communities", params={"contact_email": CONTACT["email"]})
            assert refused.status_code == 403
            assert "only guides and admins" in refused.json()["error"]["message"]
            assert (await professional.get("/v1/communities")).json()["total"] == 3


async def test_a_community_contact_reports_seats_for_their_own_communities_only(
    database_url: str, nats_clean: str
) -> None:
    async with ServedApp(build(settings(database_url, nats_clean))) as served, served.client(GUIDE) as client:
        org = (await client.post("/v1/organizations", json=organization_body())).json()
        own = (await client.post("/v1/communities", json=community_body(org["id"]))).json()
        other = (await client.post("/v1/communities", json=community_body(org["id"], name="Hæklecaféen"))).json()
        contact = token("community_contact", "contact:0123456789abcdef", communities=[own["id"]])

        async with served.client(contact) as birthe:
            full = await birthe.put(f"/v1/communities/{own['id']}/capacity", json={"status": "full", "available": 0})
            assert full.status_code == 200, full.text
            assert full.json()["capacity"] | {"total": 20, "available": 0, "status": "full"} == full.json()["capacity"]
            few = await birthe.put(f"/v1/communities/{own['id']}/capacity", json={"status": "open", "available": 2})
            assert few.json()["capacity"]["total"] == 20 and few.json()["capacity"]["available"] == 2  # total kept

            refused = await birthe.put(f"/v1/communities/{other['id']}/capacity", json={"status": "full"})
            assert refused.status_code == 403
            assert "own contact" in refused.json()["error"]["message"]
            assert (await birthe.post(f"/v1/communities/{own['id']}/archive")).status_code == 403

        async with served.client(PROFESSIONAL) as professional:
            refused = await professional.put(f"/v1/communities/{own['id']}/capacity", json={"status": "full"})
            assert refused.status_code == 403

        # the refusals changed nothing; a guide still sets the total when they send it
        assert (await client.get(f"/v1/communities/{other['id']}")).json()["capacity"]["status"] == "open"
        reset = await client.put(f"/v1/communities/{own['id']}/capacity", json={"total": 10, "available": 3})
        assert reset.json()["capacity"] | {"total": 10, "available": 3} == reset.json()["capacity"]
        too_many = await client.put(f"/v1/communities/{own['id']}/capacity", json={"available": 11})
        assert too_many.status_code == 422  # checked against the total it keeps


# ---------------------------------------------------------------------- consent


ORGANIZATION = organization_body(email="kontakt@maskerne.example.dk", phone="+45 57 00 00 00")
# Contact persons who did not consent to be public: no answer without a token may hold a trace.
BIRTHE = {"name": "Birthe Holm", "email": "birthe@maskerne.example.dk", "phone": "+45 20 11 22 33"}
KAREN = {"name": "Karen Lund", "email": "karen.lund@maskerne.example.dk", "phone": "+45 30 44 55 66"}
PRIVATE = ("Birthe", "birthe@", "20 11 22 33", "Karen", "karen.lund@", "30 44 55 66")
JONAS = {"name": "Jonas Kragh", "email": "jonas@maskerne.example.dk", "phone": "+45 40 77 88 99", "public": True}
# Searches that find the communities, besides each listing's first page.
QUERIES: dict[str, list[dict[str, Any]]] = {
    "/v1/communities": [{"q": "Strikkeklubben"}, {"organization_id": "{organization_id}"}],
    "/hsds/services": [{"search": "Strikkeklubben"}, {"organization_id": "{organization_id}"}],
    "/hsds/organizations": [{"search": "Maskerne"}],
    "/hsds/service_at_locations": [{"search": "Strikkeklubben"}, {"organization_id": "{organization_id}"}],
}


def _routes(app: Any) -> list[tuple[str, list[str]]]:
    """Every route of the app with its methods (HEAD goes with GET)."""
    routes = [(route.path, sorted((route.methods or set()) - {"HEAD"})) for route in iter_route_contexts(app.routes)]
    return [(path, methods) for path, methods in routes if path is not None]


def _calls(path: str, values: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The URLs to call for one route: its path parameters filled from `values` (a route with
    a parameter not named there fails the test: decide what it reads, and add it)."""
    try:
        url = path.format(**values)
    except KeyError as missing:
        raise AssertionError(f"{path}: no test value for path parameter {missing}; add one") from None
    queries = [{key: str(v).format(**values) for key, v in q.items()} for q in QUERIES.get(path, [])]
    return [(url, {}), *((url, query) for query in queries)]


async def _community_world(client: Any) -> dict[str, str]:
    org = (await client.post("/v1/organizations", json=ORGANIZATION)).json()
    private = (await client.post("/v1/communities", json=community_body(org["id"], contact=BIRTHE))).json()
    public = await client.post("/v1/communities", json=community_body(org["id"], name="Hæklecaféen", contact=JONAS))
    archived = await client.post("/v1/communities", json=community_body(org["id"], name="Gammel klub", contact=KAREN))
    assert (await client.post(f"/v1/communities/{archived.json()['id']}/archive")).status_code == 200
    assert private["contact"] == {**BIRTHE, "public": False}
    assert public.json()["contact"] == JONAS
    return {
        "organization": org["id"],
        "private": private["id"],
        "public": public.json()["id"],
        "archived": archived.json()["id"],
    }


async def test_no_answer_without_a_token_shows_a_contact_person_who_did_not_consent(
    database_url: str, nats_clean: str
) -> None:
    app = build(settings(database_url, nats_clean, hsds_burst=100_000))
    routes = _routes(app)
    async with ServedApp(app) as served, served.client(GUIDE) as guide, served.client() as anonymous:
        ids = await _community_world(guide)
        term = (await anonymous.get("/hsds/taxonomy_terms")).json()["contents"][0]["id"]
        taxonomy = (await anonymous.get("/hsds/taxonomies")).json()["contents"][0]["id"]
        called = 0
        for subject in (ids["private"], ids["archived"]):
            # Our ids are UUIDs, so they are the HSDS ids as well.
            values = {"community_id": subject, "service_id": subject, "organization_id": ids["organization"]}
            values["term_id"] = term
            values["taxonomy_id"] = taxonomy
            service = (await anonymous.get(f"/hsds/services/{subject}")).json()
            values["service_at_location_id"] = service["service_at_locations"][0]["id"]
            for path, methods in routes:
                for url, query in _calls(path, values):
                    for method in methods:
                        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
                        answer = await anonymous.request(method, url, params=query, json=body)
                        called += 1
                        leaked = [trace for trace in PRIVATE if trace in answer.text]
                        assert not leaked, f"{method} {url} {query} without a token shows {leaked}"
                        if method != "GET":
                            assert answer.status_code == 401, f"{method} {url} without a token: {answer.status_code}"
        assert called > 2 * len(routes)

        # What the public feed shows instead: the organisation's own details, or the person who consented.
        private = (await anonymous.get(f"/hsds/services/{ids['private']}")).json()
        assert private["email"] == ORGANIZATION["email"]
        assert [(c["title"], c["name"], c["email"], c["phones"][0]["number"]) for c in private["contacts"]] == [
            ("Arrangør", ORGANIZATION["name"], ORGANIZATION["email"], ORGANIZATION["phone"])
        ]
        public = (await anonymous.get(f"/hsds/services/{ids['public']}")).json()
        assert public["email"] == JONAS["email"]
        assert [(c["title"], c["name"], c["email"], c["phones"][0]["number"]) for c in public["contacts"]] == [
            ("Velkomstkontakt", JONAS["name"], JONAS["email"], JONAS["phone"])
        ]
        org = (await anonymous.get(f"/hsds/organizations/{ids['organization']}")).json()
        assert {s["name"]: s["email"] for s in org["services"]} == {
            "Strikkeklubben Maskerne": ORGANIZATION["email"],
            "Hæklecaféen": JONAS["email"],
        }
        searched = (await anonymous.get("/hsds/services", params={"search": "Maskerne"})).json()
        assert {s["email"] for s in searched["contents"]} == {ORGANIZATION["email"], JONAS["email"]}
        assert (await anonymous.get("/v1/communities", params={"q": "Strikkeklubben"})).status_code == 401

        # The public feed stays public with a token too: a guide's HSDS answer is everyone's.
        with_token = await guide.get(f"/hsds/services/{ids['private']}")
        assert not [trace for trace in PRIVATE if trace in with_token.text]


async def test_every_token_holder_sees_the_contact_person_wherever_the_community_is_shown(
    database_url: str, nats_clean: str
) -> None:
    app = build(settings(database_url, nats_clean, hsds_burst=100_000))
    reads = [path for path, methods in _routes(app) if "GET" in methods]
    async with ServedApp(app) as served, served.client(GUIDE) as guide:
        ids = await _community_world(guide)
        values = {"community_id": ids["private"], "organization_id": ids["organization"], "service_id": ids["private"]}
        values["term_id"] = "unused"
        for role in Role:
            async with served.client(token(role.value, f"test-{role.value}")) as client:
                shown = await client.get(f"/v1/communities/{ids['private']}")
                assert shown.status_code == 200, (role, shown.text)
                assert shown.json()["contact"] == {**BIRTHE, "public": False}, role
                found = (await client.get("/v1/communities", params={"q": "Strikkeklubben"})).json()
                contacts = {item["id"]: item["contact"] for item in found["items"]}
                assert contacts[ids["private"]] == {**BIRTHE, "public": False}, role
                # Any staff answer that shows the community by name shows its contact person too.
                for path in reads:
                    if path.startswith("/hsds") or "{term_id}" in path:
                        continue  # the public feed, the same for all (the test above)
                    for url, query in _calls(path, values):
                        answer = await client.get(url, params=query)
                        if answer.status_code == 200 and "Strikkeklubben Maskerne" in answer.text:
                            assert BIRTHE["email"] in answer.text, f"{role}: GET {url} {query} hides the contact"


# ---------------------------------------------------------------------- self-service


async def _updates(nats_url: str, community_id: str, count: int) -> list[dict[str, Any]]:
    async def published() -> list[dict[str, Any]]:
        found = [
            e.data
            for e in await stream_events(nats_url, "catalogue")
            if e.subject == community_id and e.type.endswith("CommunityUpdated.v1")
        ]
        return found if len(found) >= count else []

    return list(await eventually(published))


async def test_a_contact_corrects_and_removes_their_own_details_and_the_event_carries_it(
    database_url: str, nats_clean: str
) -> None:
    app = build(settings(database_url, nats_clean, hsds_burst=100_000))
    async with ServedApp(app) as served, served.client(GUIDE) as guide, served.client() as anonymous:
        ids = await _community_world(guide)
        own, other = ids["private"], ids["public"]
        contact = token("community_contact", "contact:0123456789abcdef", communities=[own])
        corrected = {"name": "Birthe Holm", "email": "birthe.holm@maskerne.example.dk", "phone": "", "public": True}

        async with served.client(contact) as birthe:
            # bad input: 422 naming what to fix, and nothing changed
            for body, field, words in (
                ({"name": "Birthe Holm"}, "phone", "an e-mail address or a phone number"),
                ({**corrected, "email": "birthe"}, "email", "navn@forening.dk"),
                ({**corrected, "phone": "ring efter kl. 16"}, "phone", "+45 12 34 56 78"),
                ({**corrected, "name": " "}, "name", "the contact person's name"),
                ({**corrected, "public": "måske"}, "public", "boolean"),
            ):
                refused = await birthe.put(f"/v1/communities/{own}/contact", json=body)
                assert refused.status_code == 422, body
                error = refused.json()["error"]
                assert error["details"][0]["field"] == field and words in error["message"], error
            assert (await guide.get(f"/v1/communities/{own}")).json()["contact"] == {**BIRTHE, "public": False}

            put = await birthe.put(f"/v1/communities/{own}/contact", json=corrected)
            assert put.status_code == 200, put.text
            assert put.json()["contact"] == {**corrected, "phone": None}
            again = await birthe.put(f"/v1/communities/{own}/contact", json=corrected)
            assert again.json()["contact"] == put.json()["contact"]

            # someone else's community, another role, no token: refused, with who may
            refused = await birthe.put(f"/v1/communities/{other}/contact", json=corrected)
            assert refused.status_code == 403 and "own contact" in refused.json()["error"]["message"]
            assert (await birthe.delete(f"/v1/communities/{other}/contact")).status_code == 403
        async with served.client(PROFESSIONAL) as professional:
            refused = await professional.delete(f"/v1/communities/{own}/contact")
            assert refused.status_code == 403 and "allowed roles" in refused.json()["error"]["message"]
        assert (await anonymous.put(f"/v1/communities/{own}/contact", json=corrected)).status_code == 401
        assert (await guide.get(f"/v1/communities/{other}")).json()["contact"] == JONAS

        # consented: the public feed now shows her, with the corrected details
        feed = (await anonymous.get(f"/hsds/services/{own}")).json()
        assert [(c["name"], c["email"], c.get("phones")) for c in feed["contacts"]] == [
            ("Birthe Holm", corrected["email"], None)
        ]
        [update] = await _updates(nats_clean, own, 1)
        assert update["contact"] == {**corrected, "phone": None}

        async with served.client(contact) as birthe:
            removed = await birthe.delete(f"/v1/communities/{own}/contact")
            assert removed.status_code == 200, removed.text
            assert removed.json()["contact"] is None
            assert (await birthe.delete(f"/v1/communities/{own}/contact")).json()["contact"] is None
        feed = await anonymous.get(f"/hsds/services/{own}")
        assert "Birthe" not in feed.text and "birthe" not in feed.text
        assert [c["title"] for c in feed.json()["contacts"]] == ["Arrangør"]
        assert (await guide.get("/v1/communities", params={"contact_email": corrected["email"]})).json()["total"] == 0

        # the consumers learn the removal: an empty contact (None would mean "unchanged")
        updates = await _updates(nats_clean, own, 2)
        assert len(updates) == 2  # the repeated PUT and DELETE changed nothing, so said nothing
        assert updates[1]["contact"] == {"name": None, "email": None, "phone": None, "public": False}
        assert CommunityUpdated.model_validate(updates[1]).contact == WelcomeContact()

        # a guide names a new contact person; without their consent they are not public
        jonas = {key: value for key, value in JONAS.items() if key != "public"}
        named = await guide.put(f"/v1/communities/{own}/contact", json=jonas)
        assert named.json()["contact"] == {**jonas, "public": False}
        assert "Jonas" not in (await anonymous.get(f"/hsds/services/{own}")).text
        assert (await guide.put("/v1/communities/no-such-community/contact", json=jonas)).status_code == 404

        # on an archived community the details can still be removed, not changed
        archived = ids["archived"]
        late = await guide.put(f"/v1/communities/{archived}/contact", json=jonas)
        assert late.status_code == 409 and "can only be removed" in late.json()["error"]["message"]
        gone = await guide.delete(f"/v1/communities/{archived}/contact")
        assert gone.status_code == 200 and gone.json()["contact"] is None
        [archived_update] = await _updates(nats_clean, archived, 1)
        assert archived_update["contact"] == {"name": None, "email": None, "phone": None, "public": False}


async def test_ingested_consent_and_removal_reach_the_public_feed(database_url: str, nats_clean: str) -> None:
    agnete = WelcomeContact(name="Agnete Friis", email="agnete@jystrup.example.dk")
    registered = CommunityRegistered(
        community_id="old-dir-17",
        organization_id="old-org-3",
        name="Søndagsvandring i Jystrup",
        categories=["nature"],
        area="jystrup",
        kind="permanent",
        accepts_special_needs=True,
        contact=agnete,
    )
    consented = CommunityUpdated(community_id="old-dir-17", contact=agnete.model_copy(update={"public": True}))
    removed = CommunityUpdated(community_id="old-dir-17", contact=WelcomeContact())
    feed = f"/hsds/services/{hsds_id_for('community', 'old-dir-17')}"
    app = build(settings(database_url, nats_clean, hsds_burst=100_000))
    async with (
        ServedApp(app) as served,
        served.client(token("municipal_system", "system-jobcenter")) as system,
        served.client() as anonymous,
        served.client(GUIDE) as guide,
    ):

        async def ingest(event: Event) -> None:
            envelope = Envelope.wrap(event, source="/systems/old-directory", time=datetime.now(UTC))
            body = json.dumps([envelope.to_dict()]).encode()
            answer = await system.post("/v1/events", content=body, headers={"content-type": BATCH_CONTENT_TYPE})
            assert answer.json()["accepted"] == 1, answer.text

        await ingest(registered)
        assert "Agnete" not in (await anonymous.get(feed)).text
        assert (await guide.get("/v1/communities/old-dir-17")).json()["contact"]["public"] is False
        await ingest(consented)
        assert "Agnete" in (await anonymous.get(feed)).text
        assert (await guide.post("/v1/communities/old-dir-17/archive")).status_code == 200
        await ingest(removed)  # a removal alone, like DELETE, works on an archived community too
        assert (await guide.get("/v1/communities/old-dir-17")).json()["contact"] is None
        assert "Agnete" not in (await anonymous.get(feed)).text
