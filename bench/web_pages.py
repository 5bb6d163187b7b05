"""The web client's pages under load: catalogue, referrals and the web in-process (uvicorn, one
event loop, SQLite, a local nats-server), 500 communities and 2,000 referrals; a professional
logged in through the development identity provider (httpx following the login as a browser
would); 200 requests each of the search page and the worklist page, beside the backing API's
own latency for the same parameters in the same run; and the first-load weight of the start
page after login (HTML plus every stylesheet, script and font it references, gzipped as
served, bytes on the wire).

Run: `python -m bench.web_pages`; writes bench/results/web_pages.json.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import nats
import uvicorn
from fastapi import FastAPI
from tqdm import tqdm

from bench.catalogue_search import KINDS, QUERY_TEXTS, WORDS
from services.catalogue.main import build as build_catalogue
from services.notifications import smtp_sink
from services.notifications.main import build as build_notifications
from services.referrals.main import build as build_referrals
from services.web.main import build as build_web
from services.web.service.search import SearchForm
from services.web.service.worklist import PER_PAGE, WorkFilter, worklist_params
from services.web.settings import WebSettings
from shared.demo import DEMO_ACTORS
from shared.events import Envelope, Event
from shared.events.referrals import CitizenRegistered, ReferralCreated, ReferrerActivated
from shared.natsserver import NatsServer, free_port
from shared.profile import profile
from shared.settings import Settings
from shared.tokens import Issuer

COMMUNITIES = 500
REFERRALS = 2_000
PROFESSIONALS_SHARE = 0.4  # of the referrals, the logged-in professional's
REQUESTS = 200
TARGET_P95_MS = 200.0
TARGET_FIRST_LOAD_KB = 200.0
RESULTS = Path(__file__).resolve().parent / "results" / "web_pages.json"
PROFESSIONAL = DEMO_ACTORS["professional"]
AREAS = profile().area.codes
CATEGORIES = profile().category.codes


@asynccontextmanager
async def served(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def community(rng: random.Random, organization_id: str, n: int) -> dict[str, Any]:
    word, kind, area = rng.choice(WORDS), rng.choice(KINDS), rng.choice(AREAS)
    total = rng.randint(5, 40)
    available = rng.choice([0, rng.randint(1, total), rng.randint(1, total)])
    return {
        "organization_id": organization_id,
        "name": f"{word.capitalize()}{kind} {profile().area.label(area)} {n}",
        "description": f"Vi mødes og {rng.choice(WORDS)} sammen. Alle er velkomne, også nybegyndere.",
        "categories": rng.sample(CATEGORIES, 2),
        "accepts_special_needs": rng.random() < 0.4,
        "contact": {"name": "Kontakt", "email": f"kontakt{n}@forening.example.dk"},
        "location": {"area": area, "address": f"Skolevej {n}"},
        "schedules": [{"weekday": rng.choice(["mon", "tue", "wed", "thu"]), "opens_at": "17:00", "closes_at": "19:00"}],
        "capacity": {"total": total, "available": available, "status": "open" if available else "full"},
    }


async def seed_catalogue(client: httpx.AsyncClient, rng: random.Random) -> list[str]:
    org = (await client.post("/v1/organizations", json={"name": "Bench-foreningen"})).json()
    made = []
    for n in tqdm(range(COMMUNITIES), desc="communities (catalogue API)", unit="c"):
        response = await client.post("/v1/communities", json=community(rng, org["id"], n))
        response.raise_for_status()
        made.append(response.json()["id"])
    return made


def referral_events(rng: random.Random, community_ids: list[str]) -> list[dict[str, object]]:
    start = datetime.now(UTC) - timedelta(days=60)

    def wrapped(event: Event, at: datetime) -> dict[str, object]:
        # The system states the citizens' consent, as ingestion requires for attributes.
        return {**Envelope.wrap(event, source="/systems/bench", time=at).to_dict(), "consentdate": "2024-01-01"}

    others = [f"prof-bench-{k}" for k in range(20)]
    events = [
        wrapped(ReferrerActivated(actor_id=actor, role="professional", sector="job_centre"), start)
        for actor in [PROFESSIONAL, *others]
    ]
    for n in range(REFERRALS):
        at = start + timedelta(minutes=40 * n)
        referrer = PROFESSIONAL if rng.random() < PROFESSIONALS_SHARE else rng.choice(others)
        citizen = f"c-bench-{n}"
        events.append(wrapped(CitizenRegistered(citizen_ref=citizen, area=rng.choice(AREAS)), at))
        created = ReferralCreated(
            referral_id=f"r-bench-{n}",
            citizen_ref=citizen,
            community_id=rng.choice(community_ids),
            referrer_id=referrer,
        )
        events.append(wrapped(created, at + timedelta(minutes=1)))
    return events


async def seed_referrals(client: httpx.AsyncClient, events: list[dict[str, object]], batch: int = 500) -> int:
    accepted = 0
    headers = {"Content-Type": "application/cloudevents-batch+json"}
    for i in tqdm(range(0, len(events), batch), desc="referrals (POST /v1/events)", unit="batch"):
        response = await client.post("/v1/events", content=json.dumps(events[i : i + batch]), headers=headers)
        response.raise_for_status()
        accepted += response.json()["accepted"]
    return accepted


async def wait_until_known(client: httpx.AsyncClient, community_ids: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with tqdm(total=len(community_ids), desc="communities known to referrals (bus)", unit="c") as bar:
        while time.monotonic() < deadline:
            known = {item["community_id"] for item in (await client.get("/v1/communities")).json()}
            bar.update(len(known & set(community_ids)) - bar.n)
            if set(community_ids) <= known:
                return
            await asyncio.sleep(0.5)
    raise RuntimeError("the referrals service did not learn every community from the bus in time")


async def wait_until_quiet(nats_url: str, notifications_db: Path, timeout: float = 300) -> None:
    """Until every durable consumer has taken and acknowledged everything and the seed's mail is
    sent, twice in a row.

    The services share this process and its event loop (a deployment runs each in its own):
    timed right after seeding, the first requests queued behind notifications deciding the
    4,000 referral events, and later ones behind bursts of its mail (p95 250-400 ms, the slow
    samples among the first 40 and in runs of ten or so a minute apart).
    """
    nc = await nats.connect(nats_url)
    deadline, calm = time.monotonic() + timeout, 0
    try:
        js = nc.jetstream()
        with tqdm(desc="bus and mail quiet", unit="check") as bar:
            while calm < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the services did not catch up with the seed in time")
                behind = 0
                for stream in await js.streams_info():
                    for consumer in await js.consumers_info(stream.config.name or ""):
                        behind += (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
                with sqlite3.connect(notifications_db) as db:
                    (unsent,) = db.execute("SELECT count(*) FROM delivery WHERE status = 'pending'").fetchone()
                bar.set_postfix(events=behind, mails=unsent)
                bar.update()
                calm = calm + 1 if behind == 0 and unsent == 0 else 0
                await asyncio.sleep(1.0)
    finally:
        await nc.close()


async def log_in(client: httpx.AsyncClient, persona: str) -> None:
    """As a browser: the login link, the identity provider's persona picker, its form back."""
    picker = await client.get("/login/start", params={"next": "/"})
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', picker.text)
    form = {name: html.unescape(value) for name, value in hidden} | {"persona": persona}
    done = await client.post(str(picker.url.copy_with(query=None)), data=form)
    if done.status_code != 200 or "vejviser_session" not in client.cookies:
        raise RuntimeError(f"login failed: {done.status_code}")


async def timed(client: httpx.AsyncClient, requests: list[tuple[str, Any]], desc: str) -> list[float]:
    samples = []
    for path, params in tqdm(requests, desc=desc, unit="req"):
        started = time.perf_counter()
        response = await client.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "max_ms": round(max(samples), 1)}


async def wire_bytes(client: httpx.AsyncClient, url: str) -> int:
    async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        response.raise_for_status()
        return sum([len(chunk) async for chunk in response.aiter_raw()])


async def first_load(client: httpx.AsyncClient) -> dict[str, Any]:
    """The start page and what it references (stylesheets, scripts, and the fonts and
    stylesheets those stylesheets reference), as gzipped bytes on the wire."""
    page = await client.get("/")
    start = str(page.url)
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assets += re.findall(r'<script src="([^"]+)"', page.text)
    sizes = {"html": await wire_bytes(client, start)}
    for asset in assets:
        url = urljoin(start, asset)
        sizes[asset] = await wire_bytes(client, url)
        if ".css" in asset:
            css = (await client.get(url)).text
            for ref in re.findall(r"url\(([^)]+\.woff2)\)", css):
                font = urljoin(url, ref.strip("'\""))
                sizes[urlsplit(font).path] = await wire_bytes(client, font)
    total_kb = sum(sizes.values()) / 1024
    return {"total_kb": round(total_kb, 1), "files": {name: round(size / 1024, 1) for name, size in sizes.items()}}


async def run(tmp: Path, nats_url: str) -> dict[str, Any]:
    rng = random.Random(20261202)

    mail_port = free_port()  # notifications mails the seed's nudges to a real SMTP server

    def settings(name: str) -> Settings:
        database_url = f"sqlite:///{tmp / name}.db"
        return Settings(service=name, database_url=database_url, nats_url=nats_url, smtp_port=mail_port)

    async with AsyncExitStack() as stack:
        stack.callback(smtp_sink.start(tmp / "mail", port=mail_port).stop)
        catalogue_url = await stack.enter_async_context(served(build_catalogue(settings("catalogue"))))
        referrals_url = await stack.enter_async_context(served(build_referrals(settings("referrals"))))
        # Every page asks notifications for the header's unread count.
        notifications_url = await stack.enter_async_context(served(build_notifications(settings("notifications"))))
        web_port = free_port()
        web_settings = WebSettings(
            database_url=f"sqlite:///{tmp / 'web.db'}",
            port=web_port,
            public_base_url=f"http://127.0.0.1:{web_port}",
            catalogue_url=catalogue_url,
            referrals_url=referrals_url,
            notifications_url=notifications_url,
        )
        web_url = await stack.enter_async_context(served(build_web(web_settings), web_port))
        # Signed with development's key (var/keys/), which every service trusts in development.
        issuer = Issuer.from_settings(web_settings)
        bearer = issuer.mint(audience=["catalogue", "referrals"], actor_id="admin-kommune", role="admin")
        admin = {"Authorization": f"Bearer {bearer}"}
        catalogue = await stack.enter_async_context(httpx.AsyncClient(base_url=catalogue_url, headers=admin))
        referrals = await stack.enter_async_context(httpx.AsyncClient(base_url=referrals_url, headers=admin))
        seeding = time.perf_counter()
        community_ids = await seed_catalogue(catalogue, rng)
        await wait_until_known(referrals, community_ids)
        accepted = await seed_referrals(referrals, referral_events(rng, community_ids))
        seed_seconds = time.perf_counter() - seeding
        settling = time.perf_counter()
        await wait_until_quiet(nats_url, tmp / "notifications.db")
        settle_seconds = time.perf_counter() - settling

        web = await stack.enter_async_context(httpx.AsyncClient(base_url=web_url, follow_redirects=True, timeout=30))
        await log_in(web, "professional")
        searches = [rng.choice([q for q in QUERY_TEXTS if q] + WORDS) for _ in range(REQUESTS)]
        await web.get("/soeg", params={"q": "strik"})  # warm-up: the catalogue's index, the pools
        await web.get("/henvisninger")
        search_page = await timed(web, [("/soeg", {"q": q}) for q in searches], "search page /soeg")
        worklist_page = await timed(web, [("/henvisninger", None)] * REQUESTS, "worklist page /henvisninger")
        weight = await first_load(web)

        bearer = issuer.mint(audience=["catalogue", "referrals"], actor_id=PROFESSIONAL, role="professional")
        as_professional = {"Authorization": f"Bearer {bearer}"}
        catalogue.headers.update(as_professional)
        referrals.headers.update(as_professional)
        search_calls = [("/v1/communities", SearchForm.parse({"q": [q]}).api_params()) for q in searches]
        search_api = await timed(catalogue, search_calls, "catalogue API /v1/communities")
        list_params = worklist_params(WorkFilter())
        worklist_api = await timed(
            referrals, [("/v1/referrals", list_params)] * REQUESTS, "referrals API /v1/referrals"
        )
        mine = len((await referrals.get("/v1/referrals", params={"limit": 1000})).json())

    search, worklist = percentiles(search_page), percentiles(worklist_page)
    return {
        "benchmark": "web_pages",
        "database": "sqlite",
        "communities": COMMUNITIES,
        "referrals": REFERRALS,
        "referral_events_accepted": accepted,
        "professionals_referrals": mine,
        "seed_seconds": round(seed_seconds, 1),
        "settle_seconds": round(settle_seconds, 1),  # the consumers and the mail catching up
        "requests_each": REQUESTS,
        "search_page": search,
        "search_api": percentiles(search_api),
        "worklist_page": worklist,
        "worklist_api": percentiles(worklist_api),
        "worklist_page_size": PER_PAGE,
        "first_load": weight,
        "target_p95_ms": TARGET_P95_MS,
        "target_first_load_kb": TARGET_FIRST_LOAD_KB,
        "ok": max(search["p95_ms"], worklist["p95_ms"]) <= TARGET_P95_MS and weight["total_kb"] <= TARGET_FIRST_LOAD_KB,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> dict[str, Any]:
    for noisy in ("httpx", "httpcore", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # a line per request drowns the bars
    with tempfile.TemporaryDirectory() as tmp, NatsServer(Path(tmp) / "nats") as nats:
        result = asyncio.run(run(Path(tmp), nats.url))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    for page, api in (("search_page", "search_api"), ("worklist_page", "worklist_api")):
        print(f"{page:>14}: p95 {result[page]['p95_ms']:7.1f} ms   (its API: p95 {result[api]['p95_ms']:7.1f} ms)")
    print(f"{'first load':>14}: {result['first_load']['total_kb']:.1f} KB gzipped (target {TARGET_FIRST_LOAD_KB:.0f})")
    return result


if __name__ == "__main__":
    main()
