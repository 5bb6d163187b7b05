"""Search latency of the catalogue: 5,000 synthetic communities in SQLite, 1,000 mixed queries
through the search use case (service layer) and through real HTTP (uvicorn, no NATS needed).

Run: `python -m bench.catalogue_search`; writes bench/results/catalogue_search.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from tqdm import tqdm

from services.catalogue.domain import WEEKDAYS, Schedule, capacity_status, decide_capacity
from services.catalogue.main import build
from services.catalogue.search import Filters
from services.catalogue.service import Catalogue, changes, organizations, searching
from services.catalogue.settings import CatalogueSettings
from shared.natsserver import free_port
from shared.profile import profile
from shared.settings import Settings
from shared.tokens import Issuer
from shared.uow import UnitOfWork

AREAS = profile().area.codes
CATEGORIES = profile().category.codes

COMMUNITIES = 5_000
QUERIES = 1_000
TARGET_P95_MS = 50.0
RESULTS = Path(__file__).resolve().parent / "results" / "catalogue_search.json"

WORDS = [
    "strikke",
    "løbe",
    "fodbold",
    "mad",
    "spisning",
    "sang",
    "kor",
    "maler",
    "have",
    "natur",
    "cykel",
    "vandre",
    "yoga",
    "læse",
    "film",
    "kort",
    "dans",
    "svømme",
    "motion",
    "keramik",
    "foto",
    "sprog",
    "frivillig",
    "besøgsven",
    "reparation",
    "kaffe",
    "petanque",
    "badminton",
    "krolf",
    "bordtennis",
]
KINDS = ["klub", "klubben", "hold", "café", "gruppe", "fællesskab", "værksted", "aften"]
QUERY_TEXTS = [
    "løb",
    "strikke",
    "fællesspisning",
    "lob",
    "faellesspisning",
    "kor",
    "have",
    "cykel benløse",
    "yoga",
    "natur jystrup",
    "maler",
    "svømning",
    "kaffe",
    "dans",
    "sang haraldsted",
    "",
]


def seed(catalogue: Catalogue, rng: random.Random) -> None:
    catalogue.runtime.write(lambda uow: _seed(uow, rng))


def _seed(uow: UnitOfWork, rng: random.Random) -> None:
    session, now = uow.session, uow.now()
    for o in range(100):
        organizations.add(session, f"org-{o}", {"name": f"Forening {o}", "kind": "association"}, now)
    for i in tqdm(range(COMMUNITIES), desc="seeding communities", unit="c"):
        word, kind = rng.choice(WORDS), rng.choice(KINDS)
        area = rng.choice(AREAS)
        total = rng.randint(5, 40)
        available = rng.choice([0, 0, rng.randint(1, total)])
        status = "open" if available else rng.choice(["full", "waitlist"])
        values = {
            "organization_id": f"org-{i % 100}",
            "name": f"{word.capitalize()}{kind} {profile().area.label(area)} {i}",
            "description": f"Vi mødes og {rng.choice(WORDS)} sammen. Alle er velkomne, også nybegyndere.",
            "categories": rng.sample(CATEGORIES, 2),
            "kind": rng.choice(["permanent"] * 5 + ["practice_track"]),
            "area": area,
            "accepts_special_needs": rng.random() < 0.4,
            "latitude": 55.44 + rng.uniform(-0.08, 0.08),
            "longitude": 11.79 + rng.uniform(-0.12, 0.12),
        }
        opens = rng.randint(8, 19)
        schedules = [
            Schedule(
                "weekly",
                rng.choice(WEEKDAYS),
                datetime(2025, 1, 1, opens).time(),
                datetime(2025, 1, 1, opens + 2).time(),
            )
        ]
        changes.register(
            session, f"c-{i}", values, schedules, decide_capacity(total, available, capacity_status(status)), now
        )


def mixed_queries(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(QUERIES):
        params: dict[str, Any] = {"q": rng.choice(QUERY_TEXTS)}
        if rng.random() < 0.3:
            params["category"] = rng.choice(CATEGORIES)
        if rng.random() < 0.3:
            params["area"] = rng.choice(AREAS)
        if rng.random() < 0.3:
            params["open_seats"] = "true"
        if rng.random() < 0.2:
            params["weekday"] = rng.choice(WEEKDAYS)
        if rng.random() < 0.2:
            params["accepts_special_needs"] = "true"
        if rng.random() < 0.15:
            params.update(lat=55.44, lon=11.79, within_km=3)
        if rng.random() < 0.1:
            params["kind"] = "practice_track"
        out.append(params)
    return out


def filters_for(params: dict[str, Any]) -> Filters:
    near = (params["lat"], params["lon"]) if "lat" in params else None
    return Filters(
        categories=frozenset({params["category"]}) if "category" in params else frozenset(),
        areas=frozenset({params["area"]}) if "area" in params else frozenset(),
        kind=params.get("kind"),
        open_seats="open_seats" in params,
        accepts_special_needs=True if "accepts_special_needs" in params else None,
        weekday=params.get("weekday"),
        near=near,
        within_km=float(params.get("within_km", 5)),
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 3),
        "p95_ms": round(cuts[94], 3),
        "p99_ms": round(cuts[98], 3),
        "max_ms": round(max(samples), 3),
        "n": len(samples),
    }


async def over_http(app: Any, queries: list[dict[str, Any]], settings: Settings) -> list[float]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one log line per request drowns the bar
    samples: list[float] = []
    # Signed with development's key (var/keys/), which the catalogue trusts in development.
    bearer = Issuer.from_settings(settings).mint(audience="catalogue", actor_id="bench", role="guide")
    headers = {"Authorization": f"Bearer {bearer}"}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            await client.get("/v1/communities")  # warm-up: first sync of the index
            for params in tqdm(queries, desc="HTTP queries", unit="q"):
                start = time.perf_counter()
                response = await client.get("/v1/communities", params=params)
                samples.append((time.perf_counter() - start) * 1000)
                response.raise_for_status()
    finally:
        server.should_exit = True
        await task
    return samples


def main() -> dict[str, Any]:
    rng = random.Random(20250301)
    with tempfile.TemporaryDirectory() as tmp:
        settings = CatalogueSettings(database_url=f"sqlite:///{tmp}/bench.db", nats_url="nats://127.0.0.1:1")
        app = build(settings, start_runtime=False)
        catalogue: Catalogue = app.state.catalogue
        catalogue.runtime.db.create_schema(catalogue.runtime.metadata)
        catalogue.prepare()
        started = time.perf_counter()
        seed(catalogue, rng)
        seed_s = time.perf_counter() - started
        started = time.perf_counter()
        catalogue.sync_index()
        index_s = time.perf_counter() - started
        queries = mixed_queries(rng)
        service_samples: list[float] = []
        for params in tqdm(queries, desc="service queries", unit="q"):
            start = time.perf_counter()
            searching.search(catalogue, params["q"], filters_for(params), 1, 20)
            service_samples.append((time.perf_counter() - start) * 1000)
        http_samples = asyncio.run(over_http(app, queries, settings))
        catalogue.runtime.db.dispose()
    result = {
        "benchmark": "catalogue_search",
        "communities": COMMUNITIES,
        "queries": QUERIES,
        "database": "sqlite",
        "seed_seconds": round(seed_s, 2),
        "index_build_seconds": round(index_s, 3),
        "service": percentiles(service_samples),
        "http": percentiles(http_samples),
        "target_p95_ms": TARGET_P95_MS,
        "ok": percentiles(http_samples)["p95_ms"] < TARGET_P95_MS,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
