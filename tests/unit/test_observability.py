"""The Prometheus exposition our renderer writes, the request counter's labels (route
template, bounded methods, status of an exception), and which figures a service reports."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from shared.observability import (
    ConsumerLag,
    CountRequests,
    Family,
    Observation,
    OutboxBacklog,
    RequestCounts,
    families,
    render,
)


def test_render_writes_help_type_and_escaped_labels() -> None:
    text = render(
        [
            Family(
                "vejviser_things_total",
                "counter",
                "Things,\nseen \\ counted.",
                (((("service", "x"), ("route", 'a"b\\c\nd')), 3.0),),
            ),
            Family("vejviser_age_seconds", "gauge", "An age.", (((("service", "x"),), 0.25),)),
            Family("vejviser_bare", "gauge", "No labels.", (((), float("nan")), ((), float("inf")))),
        ]
    )
    assert text == (
        "# HELP vejviser_things_total Things,\\nseen \\\\ counted.\n"
        "# TYPE vejviser_things_total counter\n"
        'vejviser_things_total{service="x",route="a\\"b\\\\c\\nd"} 3\n'
        "# HELP vejviser_age_seconds An age.\n"
        "# TYPE vejviser_age_seconds gauge\n"
        'vejviser_age_seconds{service="x"} 0.25\n'
        "# HELP vejviser_bare No labels.\n"
        "# TYPE vejviser_bare gauge\n"
        "vejviser_bare NaN\n"
        "vejviser_bare +Inf\n"
    )


def counted_app() -> tuple[FastAPI, RequestCounts]:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @app.get("/numbers/{n:int}")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    counts = RequestCounts()
    app.add_middleware(CountRequests, counts=counts)
    return app, counts


async def test_requests_are_counted_by_route_template_method_and_status() -> None:
    app, counts = counted_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for item_id in ("a", "b", "c"):
            assert (await client.get(f"/items/{item_id}")).status_code == 200
        assert (await client.get("/numbers/7")).status_code == 200
        assert (await client.post("/items/a")).status_code == 405
        assert (await client.request("PROPFIND-ANYTHING", "/items/a")).status_code == 405
        assert (await client.get("/nowhere/a")).status_code == 404
        assert (await client.get("/boom")).status_code == 500

    assert dict(counts.counts) == {
        ("GET", "/items/{item_id}", 200): 3,
        ("GET", "/numbers/{n}", 200): 1,
        ("POST", "/items/{item_id}", 405): 1,
        ("other", "/items/{item_id}", 405): 1,  # a client cannot mint label values
        ("GET", "unmatched", 404): 1,
        ("GET", "/boom", 500): 1,
    }


def names(observation: Observation) -> list[str]:
    return [family.name for family in families(observation, RequestCounts()) if family.samples]


def test_a_service_off_the_bus_reports_only_its_database_and_requests() -> None:
    observation = Observation("web", {"database": True})
    assert names(observation) == ["vejviser_up"]
    assert [f.name for f in families(observation, RequestCounts())] == ["vejviser_http_requests_total", "vejviser_up"]
    assert observation.readiness().model_dump() == {
        "status": "ok",
        "checks": {"database": True},
        "outbox": None,
        "consumers": [],
        "dlq_messages": None,
    }


def test_a_service_on_the_bus_reports_every_figure_and_is_unready_when_a_check_fails() -> None:
    lag = ConsumerLag(
        consumer="analytics-projection-referrals", stream="REFERRALS", pending=4, ack_pending=1, active=True
    )
    observation = Observation(
        "analytics",
        {"database": True, "nats": True, "outbox": False},
        OutboxBacklog(unsent=2, oldest_unsent_age_seconds=130.5, set_aside=1),
        (lag,),
        dlq_messages=3,
    )
    assert names(observation) == [
        "vejviser_up",
        "vejviser_outbox_unsent",
        "vejviser_outbox_oldest_unsent_age_seconds",
        "vejviser_outbox_set_aside",
        "vejviser_consumer_pending",
        "vejviser_consumer_ack_pending",
        "vejviser_consumer_active",
        "vejviser_dlq_messages",
    ]
    text = render(families(observation, RequestCounts()))
    assert 'vejviser_up{service="analytics",check="outbox"} 0\n' in text
    assert 'vejviser_outbox_oldest_unsent_age_seconds{service="analytics"} 130.5\n' in text
    labels = 'service="analytics",consumer="analytics-projection-referrals",stream="REFERRALS"'
    assert f"vejviser_consumer_pending{{{labels}}} 4\n" in text
    assert f"vejviser_consumer_ack_pending{{{labels}}} 1\n" in text
    assert f"vejviser_consumer_active{{{labels}}} 1\n" in text
    assert 'vejviser_dlq_messages{service="analytics"} 3\n' in text
    readiness = observation.readiness()
    assert readiness.status == "unavailable"
    assert readiness.checks == {"database": True, "nats": True, "outbox": False}
