"""Every route of the referrals service that answers with citizen-linked data writes an audit
entry when it is called: who, which citizen, what, which purpose, from which client.

Which routes those are is decided from each route's response model, walked recursively
(`citizen_linked`); the list of probes below must name exactly those routes, so a new route
that shows citizen data fails here until a probe proves it is audited. Pages without a model
(the one-click welcome) and answers without a body are listed by hand, and every route must be
in exactly one of the lists."""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit

import httpx
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import select

from services.referrals.audit import AuditEntry
from services.referrals.main import build
from tests.helpers import token
from tests.integration.referrals.support import AMB, CITIZEN_CONTACT, CONTACT, GUIDE, PROF, Svc, running, settings

DPO = token("dpo", "dpo-karin")
CLIENT = {"X-Vejviser-Client": "probe"}
NOTE = "Har svært ved at komme ud af døren efter sin mands død."
CONSENT = {"purpose": "Henvisning til et fællesskab"}

# What makes a response citizen-linked: these fields anywhere in it, or these models (a
# referral's events, the reads of one citizen's data) which name no citizen themselves.
CITIZEN_FIELDS = frozenset({"citizen_ref", "referral_id", "note", "shared_contact"})
CITIZEN_MODELS = frozenset({"TimelineOut", "AuditOut"})
# Answers without a response model that still show a referral (HTML pages).
PAGES = {("GET", "/welcome/{token}"), ("POST", "/welcome/{token}")}
NO_BODY = {("POST", "/v1/referrals/{referral_id}/decline_accompaniment")}  # 204
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
PLAIN_TEXT = {("GET", "/metrics")}  # Prometheus text: counts by route and consumer, no citizen

Route = tuple[str, str]


def citizen_linked(annotation: Any, seen: frozenset[type] = frozenset()) -> set[str]:
    """Why a response of this type carries citizen-linked data (empty: it does not)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return set()
        found = {annotation.__name__} & CITIZEN_MODELS
        for name, info in annotation.model_fields.items():
            if name in CITIZEN_FIELDS:
                found.add(f"{annotation.__name__}.{name}")
            found |= citizen_linked(info.annotation, seen | {annotation})
        return found
    if get_origin(annotation) in (list, dict, tuple, set, Union, types.UnionType):
        return set().union(*(citizen_linked(arg, seen) for arg in get_args(annotation)))
    return set()


def routes(app: Any) -> dict[Route, Any]:
    found: dict[Route, Any] = {}
    for route in iter_route_contexts(app.routes):
        if route.path in FRAMEWORK:
            continue
        for method in route.methods or ():
            found[(method, route.path)] = route.response_model
    return found


def linked_routes(app: Any) -> dict[Route, set[str]]:
    return {key: why for key, model in routes(app).items() if (why := citizen_linked(model))}


# ---------------------------------------------------------------------- the probes


@dataclass
class World:
    svc: Svc
    ids: dict[str, str] = field(default_factory=dict)

    async def call(self, tok: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = await self.svc.call(tok, method, path, headers=CLIENT, **kw)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()

    async def referral(self, **kw: Any) -> str:
        body = {"citizen_ref": self.ids["a"], "community_id": "strik", **kw}
        return str((await self.svc.ok(PROF, "POST", "/v1/referrals", 201, json=body))["referral_id"])

    async def page(self, method: str, referral_id: str) -> httpx.Response:
        url = (await self.svc.ok(GUIDE, "GET", f"/v1/referrals/{referral_id}"))["welcome_url"]
        async with self.svc.client("") as anonymous:
            response = await anonymous.request(method, urlsplit(url).path, headers=CLIENT)
        assert response.status_code == 200, response.text
        return response


@dataclass(frozen=True)
class Expect:
    actor: str
    purpose: str
    reads: tuple[tuple[str, str, str | None], ...]  # citizen_ref, what, referral_id (None: any)


Probe = Callable[[World], Awaitable[Expect]]


async def register(w: World) -> Expect:
    ref = (await w.call(PROF, "POST", "/v1/citizens", 201, json={"contact": CITIZEN_CONTACT, "consent": CONSENT}))[
        "citizen_ref"
    ]
    w.ids["b"] = ref
    return Expect("prof-mette", "referral_followup", ((ref, "record", None),))


async def record(w: World) -> Expect:
    await w.call(PROF, "GET", f"/v1/citizens/{w.ids['a']}")
    return Expect("prof-mette", "referral_followup", ((w.ids["a"], "record", None),))


async def contact(w: World) -> Expect:
    assert (await w.call(PROF, "GET", f"/v1/citizens/{w.ids['a']}/contact"))["name"] == CITIZEN_CONTACT["name"]
    return Expect("prof-mette", "contact_citizen", ((w.ids["a"], "contact", None),))


async def refer(w: World) -> Expect:
    body = {
        "citizen_ref": w.ids["a"],
        "community_id": "strik",
        "note": NOTE,
        "share_contact_with_community": True,
        "share_note_with_community": True,
        "needs_accompaniment": True,
    }
    rid = w.ids["r1"] = (await w.call(PROF, "POST", "/v1/referrals", 201, json=body))["referral_id"]
    return Expect("prof-mette", "referral_followup", ((w.ids["a"], "referral", rid), (w.ids["a"], "note", rid)))


async def worklist(w: World) -> Expect:
    listed = await w.call(CONTACT, "GET", "/v1/referrals", params={"purpose": "reception"})
    rid, ref = w.ids["r1"], w.ids["a"]
    assert {r["referral_id"]: r["note"] for r in listed}[rid] == NOTE  # shared with consent
    return Expect("contact-strik", "reception", ((ref, "list", None), (ref, "note", rid), (ref, "shared_contact", rid)))


async def one(w: World) -> Expect:
    await w.call(GUIDE, "GET", f"/v1/referrals/{w.ids['r1']}")
    return Expect("guide-anne", "referral_followup", ((w.ids["a"], "referral", w.ids["r1"]),))


def move(path: str, tok: str, actor: str, body: dict[str, Any] | None = None, rid: str = "r1") -> Probe:
    async def probe(w: World) -> Expect:
        await w.call(
            tok, "POST", f"/v1/referrals/{w.ids[rid]}/{path}", status=201 if path == "loneliness" else 200, json=body
        )
        return Expect(actor, "referral_followup", ((w.ids["a"], "referral", w.ids[rid]),))

    return probe


async def requests(w: World) -> Expect:
    listed = await w.call(AMB, "GET", "/v1/accompaniment-requests")
    assert w.ids["r1"] in {r["referral_id"] for r in listed}
    return Expect("amb-lars", "accompaniment", ((w.ids["a"], "list", None),))


async def timeline(w: World) -> Expect:
    await w.call(AMB, "GET", f"/v1/referrals/{w.ids['r1']}/timeline")
    return Expect("amb-lars", "referral_followup", ((w.ids["a"], "timeline", w.ids["r1"]),))


async def second_referral(w: World) -> Expect:
    w.ids["r2"], w.ids["r3"], w.ids["r4"] = [await w.referral() for _ in range(3)]
    return await move("propose_visit", CONTACT, "contact-strik", {"visit_at": _soon()}, rid="r2")(w)


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(days=3)).isoformat()


def page(method: str) -> Probe:
    async def probe(w: World) -> Expect:
        if "r5" not in w.ids:
            w.ids["r5"] = await w.referral()
        shown = await w.page(method, w.ids["r5"])
        assert "Strikkeklubben i Vestervang" in shown.text
        return Expect("welcome-link", "reception", ((w.ids["a"], "referral", w.ids["r5"]),))

    return probe


async def bridge(w: World) -> Expect:
    await w.referral(community_id="spis")
    lasting = await w.referral(community_id="kor")
    body = {"from_community_id": "spis", "to_referral_id": lasting}
    await w.call(PROF, "POST", f"/v1/citizens/{w.ids['a']}/bridge", 201, json=body)
    return Expect("prof-mette", "referral_followup", ((w.ids["a"], "record", None),))


async def citizen_audit(w: World) -> Expect:
    assert await w.call(GUIDE, "GET", f"/v1/citizens/{w.ids['a']}/audit")
    return Expect("guide-anne", "supervision", ((w.ids["a"], "list", None),))


async def search(w: World) -> Expect:
    found = await w.call(DPO, "GET", "/v1/audit", params={"citizen_ref": w.ids["a"], "purpose": "contact_citizen"})
    assert [e["what"] for e in found["entries"]] == ["contact"]  # `purpose` filters here
    return Expect("dpo-karin", "supervision", ((w.ids["a"], "list", None),))


async def export(w: World) -> Expect:
    held = await w.call(DPO, "GET", f"/v1/citizens/{w.ids['a']}/export")
    assert NOTE in held["summary_da"]
    return Expect("dpo-karin", "access_request", ((w.ids["a"], "export", None),))


async def erase(w: World) -> Expect:
    await w.call(GUIDE, "DELETE", f"/v1/citizens/{w.ids['b']}")
    return Expect("guide-anne", "erasure", ((w.ids["b"], "record", None),))


REFERRAL = "/v1/referrals/{referral_id}"
# In the order they run: each leaves the world as the next needs it.
PROBES: list[tuple[Route, Probe]] = [
    (("POST", "/v1/citizens"), register),
    (("GET", "/v1/citizens/{citizen_ref}"), record),
    (("GET", "/v1/citizens/{citizen_ref}/contact"), contact),
    (("POST", "/v1/referrals"), refer),
    (("GET", "/v1/referrals"), worklist),
    (("GET", REFERRAL), one),
    (("POST", f"{REFERRAL}/accept"), move("accept", CONTACT, "contact-strik")),
    (("GET", "/v1/accompaniment-requests"), requests),
    (
        ("POST", f"{REFERRAL}/arrange_accompaniment"),
        move("arrange_accompaniment", PROF, "prof-mette", {"companion_id": "amb-lars"}),
    ),
    (("GET", f"{REFERRAL}/timeline"), timeline),
    (("POST", f"{REFERRAL}/accompany"), move("accompany", AMB, "amb-lars")),
    (("POST", f"{REFERRAL}/welcome"), move("welcome", CONTACT, "contact-strik")),
    (
        ("POST", f"{REFERRAL}/confirm_participation"),
        move("confirm_participation", CONTACT, "contact-strik", {"weeks_after": 4, "still_participating": True}),
    ),
    (
        ("POST", f"{REFERRAL}/loneliness"),
        move("loneliness", PROF, "prof-mette", {"moment": "week_12", "answers": [1, 2, 1], "consent": True}),
    ),
    (("POST", f"{REFERRAL}/propose_visit"), second_referral),
    (("POST", f"{REFERRAL}/no_show"), move("no_show", CONTACT, "contact-strik", rid="r2")),
    (("POST", f"{REFERRAL}/reject"), move("reject", CONTACT, "contact-strik", {"reason": "full"}, rid="r3")),
    (("POST", f"{REFERRAL}/cancel"), move("cancel", PROF, "prof-mette", rid="r4")),
    (("GET", "/welcome/{token}"), page("GET")),
    (("POST", "/welcome/{token}"), page("POST")),
    (("POST", "/v1/citizens/{citizen_ref}/bridge"), bridge),
    (("GET", "/v1/citizens/{citizen_ref}/audit"), citizen_audit),
    (("GET", "/v1/audit"), search),
    (("GET", "/v1/citizens/{citizen_ref}/export"), export),
    (("DELETE", "/v1/citizens/{citizen_ref}"), erase),
]


def test_the_probes_cover_exactly_the_routes_that_show_citizen_data(tmp_path: Any) -> None:
    app = build(settings(f"sqlite:///{tmp_path / 'r.db'}", "nats://127.0.0.1:1"))
    every = routes(app)
    linked = set(linked_routes(app))
    without_model = {key for key, model in every.items() if model is None}
    assert without_model == PAGES | NO_BODY | PLAIN_TEXT, (
        "a route without a response model: list it in PAGES or NO_BODY"
    )
    probed = [key for key, _ in PROBES]
    assert len(probed) == len(set(probed)), "a route is probed twice"
    missing = sorted((linked | PAGES) - set(probed))
    assert not missing, f"citizen-linked routes no probe proves audited: {missing}"
    stale = sorted(set(probed) - linked - PAGES)
    assert not stale, f"probed routes that show no citizen data (update the lists): {stale}"
    # The classifier itself: the obvious cases, both ways.
    assert ("GET", "/v1/referrals/{referral_id}/timeline") in linked and ("GET", "/v1/referrers") not in linked
    assert ("GET", "/v1/communities") not in linked and ("POST", "/v1/retention/run") not in linked


def _entries_after(svc: Svc, last: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id)
    return svc.served.runtime.read(lambda session: list(session.scalars(query)))  # type: ignore[no-any-return]


def _last_id(svc: Svc) -> int:
    entries = svc.served.runtime.read(
        lambda session: session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    )
    return int(entries or 0)


async def test_every_route_that_shows_citizen_data_writes_an_audit_entry(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        w = World(svc)
        w.ids["a"] = await svc.citizen(PROF, consent=CONSENT)
        for route, probe in PROBES:
            last = _last_id(svc)
            expect = await probe(w)
            written = [
                (e.actor_id, e.purpose, e.client, e.service, e.citizen_ref, e.what, e.referral_id)
                for e in _entries_after(svc, last)
            ]
            mine = {
                (ref, what, rid)
                for actor, purpose, client, service, ref, what, rid in written
                if (actor, purpose, client, service) == (expect.actor, expect.purpose, "probe", "referrals")
            }
            for ref, what, referral_id in expect.reads:
                assert any(
                    (r, wh) == (ref, what) and (referral_id is None or rid == referral_id) for r, wh, rid in mine
                ), f"{route}: no entry {what} of {ref} for {expect.actor} ({expect.purpose}); written: {written!r}"


async def test_a_purpose_outside_the_list_is_refused_with_the_codes(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        rid = (await svc.referral())["referral_id"]
        last = _last_id(svc)
        refused = await svc.call(PROF, "GET", f"/v1/referrals/{rid}", params={"purpose": "curiosity"})
        assert refused.status_code == 422
        message = refused.json()["error"]["message"]
        assert message.startswith("purpose:") and "referral_followup" in message and "access_request" in message
        free_text = await svc.call(CONTACT, "GET", "/v1/referrals", headers={"X-Vejviser-Client": "Birthe Testesen"})
        assert free_text.status_code == 422 and "X-Vejviser-Client" in free_text.text
        assert _entries_after(svc, last) == []  # nothing was shown, nothing written
        await svc.ok(PROF, "GET", f"/v1/referrals/{rid}")  # no client header: none recorded
        assert [(e.client, e.purpose) for e in _entries_after(svc, last) if e.what == "referral"] == [
            (None, "referral_followup")
        ]
