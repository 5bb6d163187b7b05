"""A community contact's access to the catalogue over real HTTP (SQLite + PostgreSQL): found by
their e-mail (guides and admins only), and reporting seats for their own communities only."""

from __future__ import annotations

from services.catalogue.main import build
from tests.helpers import ServedApp, token
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
