"""`/metrics` and `/readyz` over real HTTP, a real nats-server and real databases: requests
counted under their route template; consumer lag that rises while the consumer's service is
stopped and falls to 0 after it restarts; the DLQ depth; the outbox backlog while NATS is
away, with /readyz turning 503 once the oldest row is too old and 200 again after the drain."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nats

from services.analytics.main import build as build_analytics
from services.analytics.settings import AnalyticsSettings
from services.catalogue.main import build as build_catalogue
from services.web.main import build as build_web
from shared.bus import ensure_streams, stream_name
from shared.events.catalogue import CommunityRegistered
from shared.natsserver import NatsServer
from shared.observability import CONTENT_TYPE, NATS_TIMEOUT, bus_figures
from shared.settings import Settings
from tests.helpers import ServedApp, eventually, publish, stream_events, token
from tests.integration.analytics.worked import history
from tests.integration.catalogue.conftest import community_body, organization_body
from tests.integration.catalogue.conftest import settings as catalogue_settings

Sample = tuple[str, frozenset[tuple[str, str]]]

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_exposition(text: str) -> dict[Sample, float]:
    """A small parser of the Prometheus text format 0.0.4: every sample by (name, labels).
    Fails on a line it cannot read, on a sample whose family has no TYPE line before it, and
    on a sample given twice."""
    samples: dict[Sample, float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            name, kind = line.removeprefix("# TYPE ").split(" ")
            assert kind in {"counter", "gauge"}, line
            typed.add(name)
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, inner, number = match.groups()
        assert name in typed, f"{name} has no TYPE line before its samples"
        labels = LABEL.findall(inner or "")
        assert ",".join(f'{k}="{v}"' for k, v in labels) == (inner or ""), f"unreadable labels: {line!r}"
        key = (name, frozenset((k, unescape(v)) for k, v in labels))
        assert key not in samples, f"sample given twice: {line!r}"
        samples[key] = float(number)
    return samples


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def value(samples: dict[Sample, float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def named(samples: dict[Sample, float], name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


async def scrape(client: Any) -> dict[Sample, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(CONTENT_TYPE)
    return parse_exposition(response.text)


def as_service(url: str) -> str:
    """The server's plain URL: a service logs in as itself (NATS_CREDENTIALS_FILE), never with
    the operator's credentials that the harness's URL carries."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# --------------------------------------------------------------------------- requests


async def test_metrics_count_requests_under_their_route_template(nats_clean: str, tmp_path: Path) -> None:
    settings = catalogue_settings(f"sqlite:///{tmp_path / 'catalogue.db'}", as_service(nats_clean))
    async with ServedApp(build_catalogue(settings)) as served, served.client(token("admin")) as client:
        for _ in range(2):
            assert (await client.get("/v1/organizations/org-does-not-exist")).status_code == 404
        assert (await client.get("/no/such/page")).status_code == 404
        assert (await client.request("BREW", "/v1/organizations")).status_code == 405

        response = await client.get("/metrics")
        samples = await scrape(client)

    assert "org-does-not-exist" not in response.text  # a route template, never the raw path
    counted = named(samples, "vejviser_http_requests_total")
    base = {("service", "catalogue")}
    assert (
        counted[
            frozenset(base | {("method", "GET"), ("route", "/v1/organizations/{organization_id}"), ("status", "404")})
        ]
        == 2
    )
    assert counted[frozenset(base | {("method", "GET"), ("route", "unmatched"), ("status", "404")})] == 1
    assert counted[frozenset(base | {("method", "other"), ("route", "/v1/organizations"), ("status", "405")})] == 1
    assert counted[frozenset(base | {("method", "GET"), ("route", "/metrics"), ("status", "200")})] == 1
    up = named(samples, "vejviser_up")
    assert up == {frozenset(base | {("check", c)}): 1.0 for c in ("database", "nats", "outbox")}
    assert value(samples, "vejviser_outbox_unsent", service="catalogue") == 0
    assert value(samples, "vejviser_outbox_oldest_unsent_age_seconds", service="catalogue") == 0
    assert value(samples, "vejviser_outbox_set_aside", service="catalogue") == 0
    assert value(samples, "vejviser_dlq_messages", service="catalogue") == 0
    lag = {"service": "catalogue", "consumer": "catalogue-referral-pressure", "stream": stream_name("referrals")}
    assert value(samples, "vejviser_consumer_pending", **lag) == 0
    assert value(samples, "vejviser_consumer_ack_pending", **lag) == 0


async def test_a_service_off_the_bus_reports_its_database_and_requests(tmp_path: Path) -> None:
    app = build_web(Settings(service="web", database_url=f"sqlite:///{tmp_path / 'web.db'}"))
    async with ServedApp(app) as served, served.client() as client:
        ready = await client.get("/readyz")
        samples = await scrape(client)

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": True},
        "outbox": None,
        "consumers": [],
        "dlq_messages": None,
    }
    assert {name for name, _ in samples} == {"vejviser_http_requests_total", "vejviser_up"}
    assert named(samples, "vejviser_up") == {frozenset({("service", "web"), ("check", "database")}): 1.0}
    readyz = {("service", "web"), ("method", "GET"), ("route", "/readyz"), ("status", "200")}
    assert named(samples, "vejviser_http_requests_total")[frozenset(readyz)] == 1


# --------------------------------------------------------------------------- consumer lag


async def test_consumer_lag_rises_while_its_service_is_stopped_and_falls_after_it_restarts(
    nats_clean: str, tmp_path: Path
) -> None:
    settings = AnalyticsSettings(
        database_url=f"sqlite:///{tmp_path / 'analytics.db'}",
        nats_url=as_service(nats_clean),
        relay_interval_seconds=0.05,
        retry_backoff_seconds=[0.1],
    )
    first = build_analytics(settings)
    consumers = first.state.runtime.consumers
    async with ServedApp(first) as served, served.client() as client:

        async def every_consumer_reported() -> dict[Sample, float] | None:
            samples = await scrape(client)
            pending = named(samples, "vejviser_consumer_pending")
            return samples if len(pending) == len(consumers) else None

        samples = await eventually(every_consumer_reported, timeout=15)
        assert set(named(samples, "vejviser_consumer_pending").values()) == {0.0}

    # The service is stopped; its durables stay on the server while events arrive.
    events = history()
    await publish(nats_clean, *events)
    per_stream = Counter(stream_name(e.nats_subject.split(".")[1]) for e in events)
    nc = await nats.connect(nats_clean)
    try:  # what the service's /metrics computes, asked as the operator while it is down
        answered, lags, _dlq = await bus_figures(nc.jetstream(timeout=NATS_TIMEOUT), consumers)
    finally:
        await nc.close()
    assert answered
    assert {lag.stream: lag.pending for lag in lags if lag.pending} == dict(per_stream)
    assert all(lag.ack_pending == 0 for lag in lags)

    async with ServedApp(build_analytics(settings)) as served, served.client() as client:

        async def caught_up() -> bool:
            samples = await scrape(client)
            lag = named(samples, "vejviser_consumer_pending") | {
                labels | {("kind", "ack")}: v for labels, v in named(samples, "vejviser_consumer_ack_pending").items()
            }
            return len(lag) == 2 * len(consumers) and set(lag.values()) == {0.0}

        await eventually(caught_up, timeout=20)
        ready = (await client.get("/readyz")).json()

    assert ready["status"] == "ok"
    assert sorted(c["consumer"] for c in ready["consumers"]) == sorted(c.durable for c in consumers)
    assert all(c["pending"] == 0 and c["ack_pending"] == 0 for c in ready["consumers"])


# --------------------------------------------------------------------------- dead letters


async def test_dlq_depth_counts_a_dead_letter(nats_clean: str, tmp_path: Path) -> None:
    settings = catalogue_settings(f"sqlite:///{tmp_path / 'catalogue.db'}", as_service(nats_clean))
    async with ServedApp(build_catalogue(settings)) as served, served.client() as client:
        assert value(await scrape(client), "vejviser_dlq_messages", service="catalogue") == 0
        nc = await nats.connect(nats_clean)
        try:  # not a CloudEvent: the catalogue's consumer terminates it as poison at once
            js = nc.jetstream()
            await ensure_streams(js)
            await js.publish("vejviser.referrals.ReferralCreated", b"not an event")
        finally:
            await nc.close()

        async def dead_lettered() -> dict[Sample, float] | None:
            samples = await scrape(client)
            return samples if value(samples, "vejviser_dlq_messages", service="catalogue") == 1 else None

        samples = await eventually(dead_lettered, timeout=15)
        ready = (await client.get("/readyz")).json()

    lag = {"service": "catalogue", "consumer": "catalogue-referral-pressure", "stream": stream_name("referrals")}
    assert value(samples, "vejviser_consumer_pending", **lag) == 0
    assert ready["dlq_messages"] == 1
    assert ready["status"] == "ok"  # a dead letter is for an operator to look at, not an outage


# --------------------------------------------------------------------------- outbox backlog


async def test_outbox_backlog_while_nats_is_away_makes_the_service_unready_until_it_drains(
    fresh_nats: NatsServer, database_url: str
) -> None:
    max_age = 1.0
    settings = catalogue_settings(database_url, fresh_nats.url, ready_outbox_max_age_seconds=max_age)
    async with ServedApp(build_catalogue(settings)) as served, served.client(token("admin")) as client:
        organization = (await client.post("/v1/organizations", json=organization_body())).json()
        assert (await client.get("/readyz")).status_code == 200

        fresh_nats.stop()
        names = ["Strikkeklubben", "Løbeklubben", "Skakklubben"]
        for name in names:
            created = await client.post("/v1/communities", json=community_body(organization["id"], name=name))
            assert created.status_code == 201, created.text

        # The writes are committed (201): their rows wait in the outbox, at least one each.
        samples = await scrape(client)
        unsent = value(samples, "vejviser_outbox_unsent", service="catalogue")
        assert unsent is not None and unsent >= len(names)
        assert value(samples, "vejviser_up", service="catalogue", check="nats") == 0
        assert "vejviser_consumer_pending" not in {name for name, _ in samples}  # NATS away: no figure
        assert "vejviser_dlq_messages" not in {name for name, _ in samples}

        async def stale() -> dict[str, Any] | None:
            response = await client.get("/readyz")
            body: dict[str, Any] = response.json()
            return body if response.status_code == 503 and body["checks"]["outbox"] is False else None

        body = await eventually(stale, timeout=10)
        assert body["status"] == "unavailable"
        assert body["checks"] == {"database": True, "nats": False, "outbox": False}
        assert body["outbox"]["unsent"] == unsent
        assert body["outbox"]["oldest_unsent_age_seconds"] > max_age
        assert body["outbox"]["set_aside"] == 0
        samples = await scrape(client)
        assert value(samples, "vejviser_up", service="catalogue", check="outbox") == 0
        age = value(samples, "vejviser_outbox_oldest_unsent_age_seconds", service="catalogue")
        assert age is not None and age > max_age

        fresh_nats.start()

        async def drained() -> dict[str, Any] | None:
            response = await client.get("/readyz")
            body: dict[str, Any] = response.json()
            return body if response.status_code == 200 else None

        body = await eventually(drained, timeout=20)
        assert body["checks"] == {"database": True, "nats": True, "outbox": True}
        assert body["outbox"] == {"unsent": 0, "oldest_unsent_age_seconds": 0.0, "set_aside": 0}
        samples = await scrape(client)
        assert value(samples, "vejviser_outbox_unsent", service="catalogue") == 0

    published = await stream_events(fresh_nats.admin_url, "catalogue")
    assert sorted(e.data["name"] for e in published if e.type == CommunityRegistered.event_type()) == sorted(names)
