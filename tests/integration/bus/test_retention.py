"""Retention on a real nats-server: every stream as the table says, a sensitive event's
per-message TTL that the server honours (its dead letter keeps it), and an erased citizen's
attribute-bearing messages purged from their stream and the DLQ when `CitizenErased` is
relayed, while `CitizenErased` stays and the consumers carry on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

from shared import stream_retention
from shared.bus import DLQ_STREAM, MSG_TTL, ensure_streams, list_dead_letters, stream_configs
from shared.events import Envelope, Event
from shared.events.referrals import (
    CitizenErased,
    CitizenRegistered,
    LonelinessMeasured,
    ReferralCreated,
)
from shared.runtime import Runtime
from shared.settings import Settings
from tests.helpers import eventually

THIRTY_DAYS = str(30 * 24 * 3600)


@pytest.fixture
async def js(nats_clean: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_clean)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


class Seen:
    """A consumer of the referrals stream (filter `vejviser.referrals.>`) that records each
    event's type and citizen, and dead-letters the registrations it is told to refuse. It runs
    as the analytics service, under that NATS user, with its durable on the referrals stream."""

    durable = "projection-referrals"

    def __init__(self) -> None:
        self.metadata = MetaData()
        self.table = Table(
            "seen",
            self.metadata,
            Column("n", Integer, primary_key=True, autoincrement=True),
            Column("type", String(64)),
            Column("citizen", String(64)),
        )
        self.refuse: set[str] = set()
        self.runtime: Runtime | None = None

    def handle(self, session: Session, envelope: Envelope, event: Event) -> None:
        citizen = str(getattr(event, "citizen_ref", ""))
        if isinstance(event, CitizenRegistered) and citizen in self.refuse:
            raise ValueError("refused for the test")  # retried, then dead-lettered
        session.execute(self.table.insert().values(type=type(event).__name__, citizen=citizen))

    def rows(self) -> list[tuple[str, str]]:
        assert self.runtime is not None
        with self.runtime.db.transaction() as session:
            return [(r[0], r[1]) for r in session.execute(select(self.table.c.type, self.table.c.citizen))]


@pytest.fixture
async def referrals(sqlite_url: str, nats_clean: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, Seen]]:
    """The referrals service's runtime (it publishes, and purges on erasure) and the reader."""

    def settings(service: str, database_url: str) -> Settings:
        return Settings(
            service=service,
            database_url=database_url,
            nats_url=nats_clean,
            max_deliver=2,
            retry_backoff_seconds=[0.1],
            relay_interval_seconds=0.05,
        )

    seen = Seen()
    runtime = Runtime(settings("referrals", sqlite_url), MetaData())
    reader = Runtime(settings("analytics", f"sqlite:///{tmp_path / 'reader.db'}"), seen.metadata)
    types = (CitizenRegistered, LonelinessMeasured, ReferralCreated, CitizenErased)
    reader.consume("referrals", seen.durable, dict.fromkeys(types, seen.handle))
    seen.runtime = reader
    await runtime.start()
    await reader.start()
    yield runtime, seen
    await reader.stop()
    await runtime.stop()


def stage(runtime: Runtime, *events: Event) -> None:
    runtime.write(lambda uow: uow.stage(*events))


async def stored(js: JetStreamContext, stream: str) -> list[Any]:
    """Every message still in `stream` (get_msg: the raw message with subject and headers)."""
    info = await js.stream_info(stream)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
        try:
            found.append(await js.get_msg(stream, seq))
        except NotFoundError:
            continue
    return found


def registered(ref: str) -> CitizenRegistered:
    return CitizenRegistered(citizen_ref=ref, age_band="25-34", area="vestervang", target_groups=["newcomer"])


async def test_every_stream_has_the_tables_max_age_and_allows_per_message_ttl(js: JetStreamContext) -> None:
    await ensure_streams(js)
    for config in stream_configs():
        info = await js.stream_info(config.name or "")
        keep = stream_retention.STREAMS[info.config.name or ""]
        assert int(info.config.max_age or 0) == keep.seconds, info.config.name
        assert bool(info.config.allow_msg_ttl) == (info.config.name != stream_retention.ADVISORY_STREAM)
    assert stream_retention.STREAMS["REFERRALS"].seconds == 400 * 24 * 3600
    assert stream_retention.STREAMS["DLQ"].seconds == 30 * 24 * 3600


async def test_a_stream_made_before_the_table_is_brought_up_to_it(js: JetStreamContext) -> None:
    # As a NATS store from before issue 13 has it: no max_age, no per-message TTL.
    old = StreamConfig(name="REFERRALS", subjects=["vejviser.referrals.>"], storage=StorageType.FILE)
    await js.add_stream(old)
    await ensure_streams(js)
    info = await js.stream_info("REFERRALS")
    assert info.config.allow_msg_ttl and int(info.config.max_age or 0) == 400 * 24 * 3600


async def test_a_sensitive_event_carries_its_ttl_and_the_server_removes_it_when_it_has_passed(
    referrals: tuple[Runtime, Seen], js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, seen = referrals
    stage(runtime, registered("c-month"))
    [kept] = await eventually(lambda: stored(js, "REFERRALS"))
    assert kept.headers[MSG_TTL] == THIRTY_DAYS  # the table's 30 days, in seconds

    # The same path with the table's TTL shortened to a second: the server drops the message.
    monkeypatch.setitem(stream_retention.TTL_HEADER, "CitizenRegistered", "1")
    referral = ReferralCreated(referral_id="r-1", citizen_ref="c-short", community_id="k", referrer_id="a")
    stage(runtime, registered("c-short"), referral)
    await eventually(lambda: ("CitizenRegistered", "c-short") in seen.rows())  # consumed first

    async def left() -> list[str]:
        return [m.subject for m in await stored(js, "REFERRALS")]

    await eventually(lambda: _without(left(), "vejviser.referrals.CitizenRegistered.c-short"), timeout=10)
    subjects = await left()
    assert "vejviser.referrals.ReferralCreated" in subjects  # no TTL: stays
    assert "vejviser.referrals.CitizenRegistered.c-month" in subjects  # 30 days: stays


async def _without(subjects_coro: Any, subject: str) -> bool:
    return subject not in await subjects_coro


async def test_erasure_purges_the_citizens_attributes_from_the_stream_and_the_dlq(
    referrals: tuple[Runtime, Seen], js: JetStreamContext
) -> None:
    runtime, seen = referrals
    seen.refuse = {"c-anna", "c-bent"}  # both registrations end in the DLQ
    measured = [
        LonelinessMeasured(referral_id=f"r-{ref}", moment="referral", score=7, citizen_ref=f"c-{ref}")
        for ref in ("anna", "bent")
    ]
    created = ReferralCreated(referral_id="r-anna", citizen_ref="c-anna", community_id="k", referrer_id="a")
    stage(runtime, registered("c-anna"), registered("c-bent"), created, *measured)
    letters = await eventually(lambda: _at_least(list_dead_letters(js), 2), timeout=15)
    assert sorted(letter.subject for letter in letters) == [
        "vejviser.referrals.CitizenRegistered.c-anna",
        "vejviser.referrals.CitizenRegistered.c-bent",
    ]
    assert {letter.headers[MSG_TTL] for letter in letters} == {THIRTY_DAYS}  # the copy expires alike

    stage(runtime, CitizenErased(citizen_ref="c-anna"))
    await eventually(lambda: ("CitizenErased", "c-anna") in seen.rows())

    async def subjects(stream: str) -> list[str]:
        return [m.subject for m in await stored(js, stream)]

    on_stream = await eventually(lambda: _purged(subjects("REFERRALS"), "c-anna"))
    assert sorted(on_stream) == [
        "vejviser.referrals.CitizenErased",  # stays: every consumer must learn of the erasure
        "vejviser.referrals.CitizenRegistered.c-bent",
        "vejviser.referrals.LonelinessMeasured.c-bent",
        "vejviser.referrals.ReferralCreated",  # no attributes: the pseudonymous referral stays
    ]
    in_dlq = [m for m in await stored(js, DLQ_STREAM)]
    assert [m.subject for m in in_dlq] == [f"vejviser.dlq.analytics-{Seen.durable}.c-bent"]
    assert all(b"c-anna" not in (m.data or b"") for m in in_dlq)

    # The consumers carry on after the purge.
    stage(runtime, registered("c-carl"))
    await eventually(lambda: ("CitizenRegistered", "c-carl") in seen.rows())
    assert ("LonelinessMeasured", "c-anna") in seen.rows()  # consumed before it went


async def _at_least(letters_coro: Any, count: int) -> Any:
    letters = await letters_coro
    return letters if len(letters) >= count else None


async def _purged(subjects_coro: Any, ref: str, after: str | None = None) -> list[str] | None:
    subjects = await subjects_coro
    if after is not None and after not in subjects:
        return None
    return None if any(s.endswith(f".{ref}") for s in subjects) else subjects


async def test_a_citizen_ref_that_is_no_subject_token_is_digested_the_same_way_for_the_purge(
    referrals: tuple[Runtime, Seen], js: JetStreamContext
) -> None:
    runtime, _seen = referrals
    odd = "kommune.x 17"  # a dot and a space: not one subject token as it is
    stage(runtime, registered(odd), registered("c-other"))
    first = await eventually(lambda: _at_least(stored(js, "REFERRALS"), 2))
    token = first[0].subject.rsplit(".", 1)[1]
    assert token.startswith("h-") and "kommune" not in first[0].subject
    stage(runtime, CitizenErased(citizen_ref=odd))
    # Wait for the erasure itself too: `stored` reads the stream's bounds first and the messages
    # after, so a read that straddles publish-then-purge can see neither the erasure nor the token.
    left = await eventually(lambda: _purged(_subjects(js), token, after="vejviser.referrals.CitizenErased"))
    assert sorted(left) == ["vejviser.referrals.CitizenErased", "vejviser.referrals.CitizenRegistered.c-other"]
    assert json.loads((await stored(js, "REFERRALS"))[-1].data)["data"]["citizen_ref"] == odd


async def _subjects(js: JetStreamContext) -> list[str]:
    return [m.subject for m in await stored(js, "REFERRALS")]
