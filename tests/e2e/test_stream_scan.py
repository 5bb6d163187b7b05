"""After a full demo run (`vejviser run`, as `make run` does), every message of every stream —
the four context streams, the DLQ and the advisories — holds no CPR number, no citizen's
contact data and no free text: every string is an id, a code, an enum, a time or a directory
field that shared/screening.py names (derived from the event models, so a new free-text field
fails here). A citizen erased through the API leaves no attribute-bearing message behind.

Runs on the system tests/e2e/conftest.py started for test_make_run.py, after those tests."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import nats
from nats.js.errors import NotFoundError

from shared.bus import ADVISORY_STREAM, DLQ_STREAM, MSG_TTL, stream_name
from shared.events import CONTEXTS, EventContractError, parse
from shared.screening import content_problem, personal_data
from shared.stream_retention import TTL_HEADER
from tests.e2e.conftest import System, get, wait_for
from tests.helpers import tls

REFERRALS = 8002
STREAMS = [*(stream_name(c) for c in CONTEXTS), DLQ_STREAM, ADVISORY_STREAM]


@dataclass(frozen=True)
class Stored:
    stream: str
    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes

    def where(self) -> str:
        return f"{self.stream}#{self.seq} ({self.subject})"

    def text(self) -> str:
        return self.data.decode("utf-8", "replace") + "\n" + "\n".join(self.headers.values())


async def _read(nats_url: str) -> list[Stored]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        found: list[Stored] = []
        for stream in STREAMS:
            try:
                state = (await js.stream_info(stream)).state
            except NotFoundError:
                continue
            for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                try:
                    raw = await js.get_msg(stream, seq)
                except NotFoundError:  # expired, purged or deleted in between
                    continue
                found.append(Stored(stream, seq, raw.subject or "", dict(raw.headers or {}), raw.data or b""))
        return found
    finally:
        await nc.close()


def read_streams(nats_url: str) -> list[Stored]:
    return asyncio.run(_read(nats_url))


def settled(nats_url: str, quiet_seconds: float = 3.0, timeout: float = 120.0) -> list[Stored]:
    """The streams once nothing has been added for `quiet_seconds` (the demo is in, consumers
    and their follow-up events are done)."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        messages = read_streams(nats_url)
        if len(messages) != last:
            last, since = len(messages), time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return messages
        time.sleep(0.5)
    raise AssertionError(f"the streams did not settle within {timeout}s")


def _referrals(tokens: dict[str, str]) -> list[Any]:
    response = get(REFERRALS, "/v1/referrals", tokens["guide"])
    if response.status_code != 200:
        return []
    body = response.json()
    return list(body["items"] if isinstance(body, dict) else body)


def citizen_refs(messages: list[Stored]) -> list[str]:
    refs = set()
    for message in messages:
        if message.stream == "REFERRALS" and ".CitizenRegistered" in message.subject:
            refs.add(json.loads(message.data)["data"]["citizen_ref"])
    return sorted(refs)


def contacts(tokens: dict[str, str], refs: list[str]) -> dict[str, dict[str, str]]:
    """Every registered citizen's contact data, read through the API as a guide would."""
    found = {}
    for ref in refs:
        response = get(REFERRALS, f"/v1/citizens/{ref}/contact", tokens["guide"])
        if response.status_code == 200:
            body = response.json()
            found[ref] = {k: v for k, v in body.items() if k in ("name", "phone", "email") and v}
    return found


def contact_patterns(found: dict[str, dict[str, str]]) -> list[tuple[str, re.Pattern[str]]]:
    """What to look for: each name and e-mail as written; each phone number's national digits
    however they are spaced."""
    patterns = []
    for ref, contact in found.items():
        for kind, value in contact.items():
            if kind == "phone":
                digits = re.sub(r"\D", "", value)[-8:]
                pattern = re.compile(r"[ .]?".join(digits))
            else:
                pattern = re.compile(re.escape(value), re.IGNORECASE)
            patterns.append((f"{ref}'s {kind}", pattern))
    return patterns


def problems_in(message: Stored, patterns: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    where, found = message.where(), []
    text = message.text()
    found += [f"{where}: holds {what}" for what, pattern in patterns if pattern.search(text)]
    for name, value in message.headers.items():
        if (kind := personal_data(value)) is not None:
            found.append(f"{where}: header {name} holds {kind}")
    if message.stream == ADVISORY_STREAM:
        found += [f"{where}: {p}" for p in _loose(json.loads(message.data))]
        return found
    try:
        envelope, event = parse(message.data)
    except EventContractError as exc:
        if message.stream != DLQ_STREAM:  # a poison message may sit in the DLQ as it came
            found.append(f"{where}: not a CloudEvent of the contract ({exc})")
        found += [f"{where}: {p}" for p in _loose(json.loads(message.data))]
        return found
    problem = content_problem(envelope, event)
    if problem:
        found.append(f"{where}: {problem}")
    name = type(event).__name__
    if name in TTL_HEADER and message.headers.get(MSG_TTL) != TTL_HEADER[name]:
        found.append(f"{where}: a {name} without its time to live (Nats-TTL {TTL_HEADER[name]})")
    return found


def _loose(value: Any, path: str = "") -> list[str]:
    """Every string of a JSON value that is not an event of the contract: no personal data."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _loose(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _loose(v, f"{path}[{i}]")]
    if isinstance(value, str) and (kind := personal_data(value)) is not None:
        return [f"{path} holds {kind}"]
    return []


async def _publish_poison(nats_url: str) -> None:
    """A ReferralCreated without its citizen: every consumer of referrals dead-letters it."""
    # Published straight to the stream, as a broken producer would; the relay never sends one.
    nc = await nats.connect(nats_url)
    try:
        body = {
            "specversion": "1.0",
            "id": "scan-poison-1",
            "source": "/systems/scan",
            "type": "dk.vejviser.ReferralCreated.v1",
            "time": "2025-03-01T09:30:00Z",
            "data": {"referral_id": "r-scan", "community_id": "k", "referrer_id": "a"},
        }
        await nc.jetstream().publish("vejviser.referrals.ReferralCreated", json.dumps(body).encode())
    finally:
        await nc.close()


async def _remove_poison(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for message in await _read(nats_url):
            if message.stream == "REFERRALS" and b'"scan-poison-1"' in message.data:
                await js.delete_msg("REFERRALS", message.seq)
    finally:
        await nc.close()


def test_no_cpr_contact_data_or_free_text_on_any_stream_after_a_demo_run(system: System) -> None:
    tokens = system.tokens
    wait_for(lambda: len(_referrals(tokens)) > 10, 150, "the demo referrals")
    before = settled(system.nats_url)
    refs = citizen_refs(before)
    assert len(refs) >= 20, f"the demo registered only {len(refs)} citizens"
    found = contacts(tokens, refs)
    assert len(found) >= 20 and all(c.get("name") for c in found.values())

    # A citizen erased through the API: their attribute-bearing messages leave the bus.
    erased = refs[0]
    response = httpx.delete(
        f"http://127.0.0.1:{REFERRALS}/v1/citizens/{erased}",
        headers={"Authorization": f"Bearer {tokens['guide']}"},
        timeout=10,
        verify=tls(),
    )
    assert response.status_code == 200, response.text

    def purged() -> list[Stored] | None:
        messages = read_streams(system.nats_url)
        gone = not any(m.subject.endswith(f".{erased}") for m in messages)
        told = any(m.subject == "vejviser.referrals.CitizenErased" and erased.encode() in m.data for m in messages)
        return messages if gone and told else None

    wait_for(purged, 30, f"{erased}'s attribute-bearing messages purged")
    # The demo leaves no dead letter; one that breaks the contract gives the DLQ copies (with
    # the keeper's headers) to scan too.
    asyncio.run(_publish_poison(system.nats_url))
    wait_for(lambda: any(m.stream == DLQ_STREAM for m in read_streams(system.nats_url)), 60, "a dead letter")
    settled(system.nats_url)
    asyncio.run(_remove_poison(system.nats_url))  # the test's own; its DLQ copies stay to be scanned
    messages = read_streams(system.nats_url)

    streams = {m.stream for m in messages}
    assert {"CATALOGUE", "REFERRALS", DLQ_STREAM} <= streams, streams
    assert len(messages) > 200, f"only {len(messages)} messages: the demo is not on the bus"
    problems = [p for m in messages for p in problems_in(m, contact_patterns(found))]
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:20])
