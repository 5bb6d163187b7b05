"""What a service tells its operators: the figures behind `/readyz` and the Prometheus
`/metrics` page (text exposition format 0.0.4), gathered once per request by `observe`.

`/metrics` has no authentication: operators scrape it on the internal network, as they call
`/healthz` and `/readyz`; the public proxy must not route it. It carries no personal data: its
labels are the service, a route template (never the raw path, which can hold an id), the
method, the status, a consumer's durable name and a stream's name.

The metric names are fixed by the issue-14 contract, and docs/operations.md alerts on them:
- `vejviser_http_requests_total{service,method,route,status}` (counter)
- `vejviser_outbox_unsent`, `vejviser_outbox_oldest_unsent_age_seconds`, `vejviser_outbox_set_aside`
- `vejviser_consumer_pending{consumer,stream}`, `vejviser_consumer_ack_pending{consumer,stream}`,
  `vejviser_consumer_active{consumer,stream}` (1 on the replica consuming, 0 on a standby)
- `vejviser_dlq_messages`
- `vejviser_up{check}`: 1/0 per readiness check (database, nats, outbox)

Everything is computed at scrape time from the database and JetStream, so two replicas of a
service report the same backlog and lag, and nothing is kept between scrapes but the request
counts (one per app: tests build many apps in one process).
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.bus import DLQ_STREAM, PullConsumer, stream_name

if TYPE_CHECKING:
    from shared.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4"
# A scrape (and a readiness probe) must answer even while NATS hangs: each JetStream call
# gets this long, and the calls run side by side.
NATS_TIMEOUT = 1.0
# Methods outside this set are counted as "other": a client must not be able to mint label
# values (every distinct value is a new time series).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


# --------------------------------------------------------------------------- request counts


class RequestCounts:
    """Requests answered by one app, by (method, route template, status)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, int]] = Counter()

    def add(self, method: str, route: str, status: int) -> None:
        self.counts[(method if method in METHODS else "other", route, status)] += 1


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/v1/referrals/{referral_id}`), which the
    router leaves in the scope; `unmatched` when no route did (a 404, a refused body)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


class CountRequests:
    """Pure ASGI middleware: counts every HTTP request once it is answered (a dict increment;
    an exception that escapes counts as 500)."""

    def __init__(self, app: ASGIApp, counts: RequestCounts) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.counts.add(str(scope.get("method", "")), route_template(scope), status)


# --------------------------------------------------------------------------- the figures


class OutboxBacklog(BaseModel):
    """The outbox rows not yet published, how long the oldest has waited, and the rows set
    aside as unpublishable (outbox dead letters)."""

    unsent: int
    oldest_unsent_age_seconds: float
    set_aside: int


class ConsumerLag(BaseModel):
    """One durable consumer of this service: messages not yet delivered to it (`pending`),
    delivered but not yet acknowledged (`ack_pending`), and whether this replica is the one
    consuming (`active`: it holds the durable's lease, `shared/lease.py`; the others stand by)."""

    consumer: str
    stream: str
    pending: int
    ack_pending: int
    active: bool


class Readiness(BaseModel):
    """`/readyz`: `status` and `checks` decide; the figures say why (absent when unknown: a
    service off the bus, NATS away)."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]
    outbox: OutboxBacklog | None = None
    consumers: list[ConsumerLag] = Field(default_factory=list)
    dlq_messages: int | None = None


@dataclass(frozen=True)
class Observation:
    service: str
    checks: dict[str, bool]
    outbox: OutboxBacklog | None = None
    consumers: tuple[ConsumerLag, ...] = ()
    dlq_messages: int | None = None

    @property
    def ready(self) -> bool:
        return all(self.checks.values())

    def readiness(self) -> Readiness:
        return Readiness(
            status="ok" if self.ready else "unavailable",
            checks=self.checks,
            outbox=self.outbox,
            consumers=list(self.consumers),
            dlq_messages=self.dlq_messages,
        )


async def observe(runtime: Runtime, *, on_bus: bool) -> Observation:
    """The service's readiness checks and figures now. A service off the bus (the web) has
    only its database to check."""
    service = runtime.settings.service
    database = await asyncio.to_thread(runtime.db.ping)
    if not on_bus:
        return Observation(service, {"database": database})
    outbox = await asyncio.to_thread(outbox_backlog, runtime) if database else None
    nc = runtime.bus_connection()
    lags: tuple[ConsumerLag, ...] = ()
    dlq: int | None = None
    nats = False
    if nc is not None:
        nats, lags, dlq = await bus_figures(nc.jetstream(timeout=NATS_TIMEOUT), runtime.consumers)
    max_age = runtime.settings.ready_outbox_max_age_seconds
    flowing = outbox is not None and outbox.oldest_unsent_age_seconds <= max_age
    return Observation(service, {"database": database, "nats": nats, "outbox": flowing}, outbox, lags, dlq)


def outbox_backlog(runtime: Runtime) -> OutboxBacklog | None:
    try:
        with runtime.db.read() as session:
            backlog = runtime.outbox.backlog(session)
    except Exception:  # the database went away between the ping and the query
        return None
    oldest = backlog.oldest_unsent_at
    age = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxBacklog(unsent=backlog.unsent, oldest_unsent_age_seconds=age, set_aside=backlog.set_aside)


async def bus_figures(
    js: JetStreamContext, consumers: Sequence[PullConsumer]
) -> tuple[bool, tuple[ConsumerLag, ...], int | None]:
    """(JetStream answers, lag of each consumer it knows, DLQ depth). The DLQ lookup is the
    probe: a consumer not created yet is left out, not a failure."""
    probe = asyncio.ensure_future(_dlq_depth(js))
    lags = await asyncio.gather(*(_lag(js, c) for c in consumers), return_exceptions=True)
    try:
        dlq = await probe
    except Exception:  # no answer within NATS_TIMEOUT, or the connection dropped meanwhile
        return False, (), None
    return True, tuple(lag for lag in lags if isinstance(lag, ConsumerLag)), dlq


async def _dlq_depth(js: JetStreamContext) -> int | None:
    try:
        info = await js.stream_info(DLQ_STREAM)
    except NotFoundError:  # JetStream answered; the streams are declared at start-up
        return None
    return int(info.state.messages)


async def _lag(js: JetStreamContext, consumer: PullConsumer) -> ConsumerLag:
    stream = stream_name(consumer.context)
    info = await js.consumer_info(stream, consumer.durable)
    return ConsumerLag(
        consumer=consumer.durable,
        stream=stream,
        pending=int(info.num_pending or 0),
        ack_pending=int(info.num_ack_pending or 0),
        active=consumer.active,
    )


# --------------------------------------------------------------------------- exposition

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Family:
    """One metric: its samples share the name, type and help text."""

    name: str
    kind: Literal["counter", "gauge"]
    help: str
    samples: tuple[tuple[Labels, float], ...]


def families(observation: Observation, requests: RequestCounts) -> list[Family]:
    service = ("service", observation.service)

    def gauge(name: str, text: str, *samples: tuple[Labels, float]) -> Family:
        return Family(name, "gauge", text, samples)

    result = [
        Family(
            "vejviser_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status.",
            tuple(
                ((service, ("method", method), ("route", route), ("status", str(status))), float(count))
                for (method, route, status), count in sorted(requests.counts.items())
            ),
        ),
        gauge(
            "vejviser_up",
            "1 when the readiness check passes, else 0.",
            *(((service, ("check", check)), float(ok)) for check, ok in observation.checks.items()),
        ),
    ]
    if (backlog := observation.outbox) is not None:
        result += [
            gauge("vejviser_outbox_unsent", "Outbox rows not yet published.", ((service,), backlog.unsent)),
            gauge(
                "vejviser_outbox_oldest_unsent_age_seconds",
                "Age of the oldest unpublished outbox row (0 when none).",
                ((service,), backlog.oldest_unsent_age_seconds),
            ),
            gauge(
                "vejviser_outbox_set_aside",
                "Outbox rows set aside as unpublishable.",
                ((service,), backlog.set_aside),
            ),
        ]
    if observation.consumers:

        def per_consumer(lag: ConsumerLag) -> Labels:
            return (service, ("consumer", lag.consumer), ("stream", lag.stream))

        result += [
            gauge(
                "vejviser_consumer_pending",
                "Messages not yet delivered to the durable consumer.",
                *((per_consumer(lag), lag.pending) for lag in observation.consumers),
            ),
            gauge(
                "vejviser_consumer_ack_pending",
                "Messages delivered to the durable consumer and not yet acknowledged.",
                *((per_consumer(lag), lag.ack_pending) for lag in observation.consumers),
            ),
            gauge(
                "vejviser_consumer_active",
                "1 on the replica that consumes for the durable (holds its lease), 0 on a standby.",
                *((per_consumer(lag), float(lag.active)) for lag in observation.consumers),
            ),
        ]
    if observation.dlq_messages is not None:
        result.append(
            gauge(
                "vejviser_dlq_messages", "Messages in the dead-letter stream.", ((service,), observation.dlq_messages)
            )
        )
    return result


def render(metrics: Sequence[Family]) -> str:
    """The Prometheus text exposition format 0.0.4."""
    lines: list[str] = []
    for family in metrics:
        help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines += [f"# HELP {family.name} {help_text}", f"# TYPE {family.name} {family.kind}"]
        for labels, value in family.samples:
            inner = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
            lines.append(f"{family.name}{{{inner}}} {_number(value)}" if inner else f"{family.name} {_number(value)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))
