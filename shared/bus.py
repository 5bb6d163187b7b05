"""NATS JetStream plumbing: streams, the publisher, durable pull consumers and the DLQ.

Reliability rules (docs/architecture.md):
- one stream per context, file storage, a dedup window so a re-sent event id is dropped;
- every publish carries `Nats-Msg-Id` = event id and waits for the PubAck;
- consumers are durable pull consumers with explicit acks, fetched in batches; a failing
  event is nak'ed with back-off and, on its last allowed delivery, terminated with a reason;
- the server's MAX_DELIVERIES and MSG_TERMINATED advisories are captured in the `ADVISORIES`
  stream, and a dead-letter keeper copies the original message into the `DLQ` stream with
  the reason, so the consumer keeps going and nothing is lost;
- how long each stream keeps its messages, and which messages expire sooner, is the table in
  shared/stream_retention.py; an erased citizen's attribute-bearing messages are purged from
  their stream and the DLQ (`purge_citizen`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from faststream.nats import NatsBroker
from faststream.nats.security import NatsUserPassword
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.events import CONTENT_TYPE, CONTEXTS, Envelope
from shared.events.envelope import subject_token
from shared.lease import AlwaysHeld, Lease
from shared.nats_auth import LEGACY_DLQ_KEEPER, dlq_keeper, durables, inbox_prefix
from shared.stream_retention import ADVISORY_STREAM as ADVISORY_STREAM  # re-exported for the services
from shared.stream_retention import DLQ_STREAM as DLQ_STREAM
from shared.stream_retention import STREAMS, erasable_contexts, message_ttl
from shared.stream_retention import stream_name as stream_name

log = logging.getLogger("vejviser.bus")

DEDUP_WINDOW_SECONDS = 120.0
DLQ_SUBJECT_PREFIX = "vejviser.dlq"
ADVISORY_PREFIXES = (
    "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES",
    "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED",
)
ADVISORY_SUBJECTS = tuple(f"{prefix}.>" for prefix in ADVISORY_PREFIXES)
MSG_ID = "Nats-Msg-Id"
MSG_TTL = "Nats-TTL"

# Headers the DLQ keeper adds to a dead letter.
H_REASON = "Vejviser-Dlq-Reason"
H_STREAM = "Vejviser-Dlq-Stream"
H_SEQ = "Vejviser-Dlq-Sequence"
H_CONSUMER = "Vejviser-Dlq-Consumer"
H_SUBJECT = "Vejviser-Dlq-Subject"


def context_subjects(context: str) -> str:
    return f"vejviser.{context}.>"


def stream_configs(replicas: int = 1) -> list[StreamConfig]:
    """Every stream's configuration; `replicas` is the JetStream replication factor (R3 on a
    three-node cluster keeps every stream writable when one node is lost)."""
    dup = DEDUP_WINDOW_SECONDS

    def kept(name: str, subjects: list[str]) -> StreamConfig:
        # max_age 0 is "until deleted"; every stream that can hold an event allows the
        # per-message TTL of sensitive types (its dead letters keep the header).
        return StreamConfig(
            name=name,
            subjects=subjects,
            storage=StorageType.FILE,
            duplicate_window=dup,
            max_age=STREAMS[name].seconds,
            allow_msg_ttl=True,
            num_replicas=replicas,
        )

    configs = [kept(stream_name(ctx), [context_subjects(ctx)]) for ctx in CONTEXTS]
    configs.append(kept(DLQ_STREAM, [f"{DLQ_SUBJECT_PREFIX}.>"]))
    configs.append(
        StreamConfig(
            name=ADVISORY_STREAM,
            subjects=list(ADVISORY_SUBJECTS),
            storage=StorageType.FILE,
            retention=RetentionPolicy.WORK_QUEUE,
            max_age=STREAMS[ADVISORY_STREAM].seconds,
            num_replicas=replicas,
        )
    )
    return configs


async def ensure_streams(js: JetStreamContext, replicas: int = 1) -> None:
    """Declare every stream; idempotent, and safe when several services race to do it."""
    for config in stream_configs(replicas):
        try:
            await js.stream_info(config.name)  # type: ignore[arg-type]
            await js.update_stream(config)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except Exception:  # another service created it in between
                await js.update_stream(config)


def nats_servers(nats_url: str) -> list[str]:
    """`NATS_URL` may name several servers of one cluster, comma-separated."""
    return [url.strip() for url in nats_url.split(",") if url.strip()]


def without_userinfo(url: str) -> str:
    """`nats://user:pw@host:port` -> `nats://host:port`."""
    parsed = urlsplit(url)
    return urlunsplit(parsed._replace(netloc=parsed.netloc.rpartition("@")[2]))


def make_broker(nats_url: str, *, name: str, user: str | None = None, password: str | None = None) -> NatsBroker:
    """The service's connection. With a user it logs in as that user (the explicit user and
    password win over any in the URL) and takes its replies on the user's own inbox, the only
    subjects it may subscribe to (shared/nats_auth.py)."""
    servers = nats_servers(nats_url)
    login: dict[str, Any] = {}
    if user is not None and password is not None:
        login = {"security": NatsUserPassword(user, password), "inbox_prefix": inbox_prefix(user)}
        servers = [without_userinfo(url) for url in servers]  # FastStream refuses both at once
    # FastStream logs every message at INFO; our own logs say what matters without payloads.
    return NatsBroker(
        servers,
        name=name,
        logger=logging.getLogger(f"vejviser.{name}.faststream"),
        log_level=logging.DEBUG,
        max_reconnect_attempts=-1,
        **login,
    )


def event_headers(event_id: str, subject: str) -> dict[str, str]:
    """Headers of every event on the bus: JetStream dedups by the event id; a sensitive type
    carries its time to live (shared/stream_retention.py)."""
    headers = {MSG_ID: event_id, "Content-Type": CONTENT_TYPE}
    ttl = message_ttl(subject)
    if ttl is not None:
        headers[MSG_TTL] = ttl
    return headers


async def publish_event(js: JetStreamContext, envelope: Envelope) -> None:
    """Publish one event and wait for the PubAck (a duplicate id is acked, not stored)."""
    subject = envelope.nats_subject
    await js.publish(subject, envelope.to_json(), headers=event_headers(envelope.id, subject))


async def purge_citizen(js: JetStreamContext, citizen_ref: str) -> None:
    """Remove every message that carries `citizen_ref`'s attributes from its stream, and every
    dead-letter copy of one. Such messages end their subject with the citizen's token; the
    DLQ keeper keeps that token on the copy's subject (`vejviser.dlq.<consumer>.<token>`)."""
    token = subject_token(citizen_ref)
    for context in erasable_contexts():
        await js.purge_stream(stream_name(context), subject=f"vejviser.{context}.*.{token}")
    await js.purge_stream(DLQ_STREAM, subject=f"{DLQ_SUBJECT_PREFIX}.*.{token}")


# --------------------------------------------------------------------------- consumers


@dataclass(frozen=True)
class Delivery:
    """One message from a fetched batch."""

    msg: Msg

    @property
    def deliveries(self) -> int:
        """How often the server has delivered it. Parsed from the reply subject only when a
        message failed: doing it for every message cost ~10% of the consume path."""
        return _delivered(self.msg)


BatchHandler = Callable[[list[Delivery]], Awaitable[Sequence["Verdict"]]]


class Settle(StrEnum):
    """How a delivered message is settled with the server."""

    ack = "ack"  # done (processed, a duplicate, or not for this consumer)
    retry = "retry"  # nak with back-off; dead-lettered once its deliveries run out
    dead_letter = "dead_letter"  # terminate now with the reason: retrying cannot help


@dataclass(frozen=True)
class Verdict:
    """What to do with one delivered message once its batch has been processed."""

    action: Settle
    reason: str = ""

    @classmethod
    def ack(cls) -> Verdict:
        return cls(Settle.ack)

    @classmethod
    def retry(cls, reason: str) -> Verdict:
        return cls(Settle.retry, reason)

    @classmethod
    def poison(cls, reason: str) -> Verdict:
        return cls(Settle.dead_letter, reason)


@dataclass
class ConsumerPolicy:
    max_deliver: int = 5
    backoff: list[float] = field(default_factory=lambda: [1.0, 5.0, 30.0, 120.0])
    batch_size: int = 256
    fetch_timeout: float = 1.0
    ack_wait: float = 30.0

    def delay(self, deliveries: int) -> float:
        return self.backoff[min(deliveries, len(self.backoff)) - 1] if self.backoff else 0.0


async def term_with_reason(msg: Msg, reason: str) -> None:
    # nats-py's term() takes no reason; the server (2.11+) accepts "+TERM <reason>" and puts
    # it in the MSG_TERMINATED advisory, which is how the reason reaches the DLQ.
    await msg._client.publish(msg.reply, b"+TERM " + reason[:900].encode())  # type: ignore[union-attr]
    msg._ackd = True


async def settle(deliveries: Sequence[Delivery], verdicts: Sequence[Verdict], policy: ConsumerPolicy) -> None:
    for delivery, verdict in zip(deliveries, verdicts, strict=True):
        msg = delivery.msg
        if verdict.action is Settle.ack:
            await msg.ack()
        elif verdict.action is Settle.dead_letter:
            await term_with_reason(msg, f"poison: {verdict.reason}")
        elif delivery.deliveries >= policy.max_deliver:
            await term_with_reason(msg, f"failed {delivery.deliveries} deliveries: {verdict.reason}")
        else:
            await msg.nak(delay=policy.delay(delivery.deliveries))


class PullConsumer:
    """A durable pull consumer on one context's stream that fetches in batches and gives every
    message its own verdict (ack, retry with back-off, or terminate as poison).

    Why not a FastStream subscriber: FastStream 0.7's batch pull loop catches
    `nats.errors.TimeoutError`, while nats-py 2.16's `fetch()` raises the builtin one on an idle
    stream, so its task crashes and restarts on every idle second. This loop uses the same
    broker connection; the AsyncAPI document still comes from FastStream (see docs.py).
    """

    def __init__(
        self,
        *,
        durable: str,
        context: str,
        handle: BatchHandler,
        policy: ConsumerPolicy,
        lease: Lease | None = None,
        standby_seconds: float = 2.0,
    ) -> None:
        self.durable = durable
        self.context = context
        self.handle = handle
        self.policy = policy
        self.lease: Lease = lease or AlwaysHeld()  # `shared.lease`: one replica fetches at a time
        self.standby_seconds = standby_seconds
        self.active = False

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=JsAckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            # One more than our own limit, so our term on the last try (naming the error)
            # comes first; the server's MAX_DELIVERIES covers consumers that die mid-batch.
            max_deliver=self.policy.max_deliver + 1,
            ack_wait=self.policy.ack_wait,
            max_ack_pending=max(1000, self.policy.batch_size * 4),
            filter_subject=context_subjects(self.context),
        )

    async def run(self, nc: Client, stop: asyncio.Event) -> None:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            context_subjects(self.context),
            durable=self.durable,
            stream=stream_name(self.context),
            config=self.config(),
        )
        try:
            await self._loop(sub, stop)
        finally:
            self.active = False
            await asyncio.to_thread(self.lease.release)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _loop(self, sub: JetStreamContext.PullSubscription, stop: asyncio.Event) -> None:
        # Fetch, then process, then settle, one batch at a time. Prefetching the next batch
        # while the current one is in the database thread gained nothing in two rounds of
        # measurement: both halves are Python and contend for the GIL (docs/architecture.md).
        while not stop.is_set():
            if not await self._holds_lease():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.standby_seconds)
                continue
            msgs = await self._fetch(sub)
            if msgs:
                await self._process(msgs)

    async def _holds_lease(self) -> bool:
        """Asked before every fetch: a replica that lost its lease stops fetching at once."""
        try:
            held = await asyncio.to_thread(self.lease.hold)
        except Exception as exc:  # a lease file that cannot be opened: standby, and say why
            log.warning("consumer %s cannot take its lease: %s", self.durable, type(exc).__name__)
            held = False
        if held != self.active:
            log.info("consumer %s %s", self.durable, "active here" if held else "on standby here")
            self.active = held
        return held

    async def _fetch(self, sub: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            return await sub.fetch(self.policy.batch_size, timeout=self.policy.fetch_timeout)
        except (TimeoutError, NatsTimeoutError):
            return []
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reconnects, server restarts: keep going
            log.warning("consumer %s fetch failed: %s", self.durable, type(exc).__name__)
            await asyncio.sleep(0.5)
            return []

    async def _process(self, msgs: list[Msg]) -> None:
        deliveries = [Delivery(m) for m in msgs]
        try:
            verdicts = await self.handle(deliveries)
        except Exception as exc:  # e.g. the database is down: retry the whole batch later
            log.warning("consumer %s batch failed: %s", self.durable, type(exc).__name__)
            verdicts = [Verdict.retry(type(exc).__name__)] * len(deliveries)
        await settle(deliveries, verdicts, self.policy)


def _delivered(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1


# --------------------------------------------------------------------------- dead letters


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    stream: str
    stream_seq: int
    consumer: str
    subject: str
    reason: str
    event_id: str | None
    event_type: str | None
    data: bytes
    headers: dict[str, str]


async def keep_dead_letters(js: JetStreamContext, advisories: Iterable[Msg]) -> None:
    """Copy the original message of each advisory into the DLQ stream, with its reason."""
    for adv in advisories:
        body = json.loads(adv.data)
        stream, seq, consumer = body["stream"], int(body["stream_seq"]), body["consumer"]
        if "MAX_DELIVERIES" in adv.subject:
            reason = f"max deliveries ({body.get('deliveries')}) reached without an ack"
        else:
            reason = body.get("reason") or "terminated by the consumer"
        try:
            original = await js.get_msg(stream, seq)
        except NotFoundError:
            log.warning("dead letter %s/%s no longer in its stream", stream, seq)
            await adv.ack()
            continue
        headers = dict(original.headers or {})
        headers.update(
            {
                H_REASON: reason,
                H_STREAM: stream,
                H_SEQ: str(seq),
                H_CONSUMER: consumer,
                H_SUBJECT: original.subject or "",
                MSG_ID: f"dlq:{stream}:{seq}:{consumer}",
            }
        )
        await js.publish(dead_letter_subject(consumer, original.subject or ""), original.data or b"", headers=headers)
        log.warning("dead-lettered %s seq %s for %s: %s", stream, seq, consumer, reason)
        await adv.ack()


def dead_letter_subject(consumer: str, original: str) -> str:
    """`vejviser.dlq.<consumer>`, plus the citizen's token when the original subject ends with
    one (`vejviser.<context>.<Event>.<token>`), so that erasing the citizen purges the copy."""
    parts = original.split(".")
    return f"{DLQ_SUBJECT_PREFIX}.{consumer}" + (f".{parts[3]}" if len(parts) == 4 else "")


def advisory_subjects(consumers: Iterable[tuple[str, str]]) -> list[str]:
    """The exact advisory subjects of the given (stream, durable) consumers' dead letters."""
    return [f"{prefix}.{stream}.{durable}" for stream, durable in consumers for prefix in ADVISORY_PREFIXES]


async def run_dead_letter_keeper(
    nc: Client,
    stop: asyncio.Event,
    *,
    service: str | None = None,
    consumers: Sequence[tuple[str, str]] | None = None,
    fetch_timeout: float = 1.0,
) -> None:
    """Keep the dead letters of one service's own consumers until `stop` is set.

    Each service has its own durable `dlq-keeper-<service>` on the ADVISORIES work queue,
    filtered to the advisories of its own durables, and reads the originals only from the
    streams it consumes: what its NATS user may do (shared/nats_auth.py). `service` defaults
    to the connection's name (make_broker names it after the service) and `consumers`, the
    (stream, durable) pairs, to the service's row of the table. A service without consumers
    has no dead letters to keep."""
    service = service or str(nc.options.get("name") or "")
    consumers = durables(service) if consumers is None else consumers
    if not service or not consumers:
        return
    js = nc.jetstream()
    # A work-queue stream refuses a filtered consumer beside the unfiltered keeper that every
    # service shared before; it goes (an advisory it had not yet taken stays in the queue).
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(ADVISORY_STREAM, LEGACY_DLQ_KEEPER)
    durable = dlq_keeper(service)
    config = ConsumerConfig(
        durable_name=durable,
        name=durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        filter_subjects=advisory_subjects(consumers),
    )
    await js.add_consumer(ADVISORY_STREAM, config)  # creates, or updates the filter to today's consumers
    sub = await js.pull_subscribe_bind(durable=durable, stream=ADVISORY_STREAM)
    try:
        await _keep(js, sub, stop, fetch_timeout)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def _keep(
    js: JetStreamContext, sub: JetStreamContext.PullSubscription, stop: asyncio.Event, fetch_timeout: float
) -> None:
    while not stop.is_set():
        try:
            msgs = await sub.fetch(32, timeout=fetch_timeout)
        except (TimeoutError, NatsTimeoutError):
            continue
        except Exception as exc:  # connection blips: keep going
            log.warning("dead-letter keeper: %s", type(exc).__name__)
            await asyncio.sleep(1.0)
            continue
        await keep_dead_letters(js, msgs)


async def list_dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    info = await js.stream_info(DLQ_STREAM)
    letters: list[DeadLetter] = []
    first, last = info.state.first_seq, info.state.last_seq
    for seq in range(first, last + 1) if info.state.messages else ():
        try:
            letters.append(await get_dead_letter(js, seq))
        except NotFoundError:
            continue
    return letters


async def get_dead_letter(js: JetStreamContext, seq: int) -> DeadLetter:
    raw = await js.get_msg(DLQ_STREAM, seq)
    headers = dict(raw.headers or {})
    event_type = None
    with contextlib.suppress(ValueError, AttributeError):
        event_type = json.loads(raw.data or b"{}").get("type")
    original_id = headers.get(MSG_ID, "")
    return DeadLetter(
        seq=seq,
        stream=headers.get(H_STREAM, ""),
        stream_seq=int(headers.get(H_SEQ, "0")),
        consumer=headers.get(H_CONSUMER, ""),
        subject=headers.get(H_SUBJECT, ""),
        reason=headers.get(H_REASON, ""),
        event_id=original_id if not original_id.startswith("dlq:") else _event_id(raw.data),
        event_type=event_type,
        data=raw.data or b"",
        headers=headers,
    )


def _event_id(data: bytes | None) -> str | None:
    try:
        value = json.loads(data or b"{}").get("id")
        return str(value) if value else None
    except (ValueError, AttributeError):
        return None


async def replay_dead_letter(js: JetStreamContext, seq: int) -> DeadLetter:
    """Put a dead letter back on its original subject and remove it from the DLQ.

    The message gets a fresh `Nats-Msg-Id` (the original is inside the dedup window or long
    gone); the event id in the body is unchanged, so consumers' inboxes keep it idempotent
    for every consumer that had already processed it.
    """
    letter = await get_dead_letter(js, seq)
    if not letter.subject:
        raise ValueError(f"DLQ message {seq} has no original subject")
    headers = {k: v for k, v in letter.headers.items() if not k.startswith("Vejviser-Dlq-") and k != MSG_ID}
    headers[MSG_ID] = f"replay:{letter.stream}:{letter.stream_seq}:{seq}"
    await js.publish(letter.subject, letter.data, headers=headers)
    await js.delete_msg(DLQ_STREAM, seq)
    return letter
