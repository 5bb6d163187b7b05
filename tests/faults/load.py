"""The load: what municipal systems and people do, over real HTTP, and the ledger of what the
system ACCEPTED (a 2xx answer) and so promised to keep.

Three kinds of input, mixed: a professional registers a citizen and refers them (API), a
municipal system sends citizens and referrals made elsewhere (CloudEvents ingest, batches),
and a community confirms the welcome once its mail about the new participant has arrived.

A request that fails because a service is down is sent again until it is accepted, as a
municipal system would; it counts once. When the answer was lost after the request went out
(the service died mid-request), the driver first asks what became of it, so its own retry
never doubles a referral.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.events import BATCH_CONTENT_TYPE, Envelope, Event
from shared.events.catalogue import CommunityRegistered, WelcomeContact
from shared.events.referrals import CitizenRegistered, ReferralCreated
from shared.links import InvalidLink, verify_link
from tests.faults.system import System
from tests.helpers import session_keys
from tests.helpers import token as test_token

COMMUNITIES = tuple(f"fault-k{i}" for i in range(1, 5))
REFERRER = "prof-fault"
REFERRER_EMAIL = "prof-fault@faults.example.dk"
SYSTEM_SOURCE = "/systems/faults-jobcenter"
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
LINK = re.compile(r"/l/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def contact_email(community_id: str) -> str:
    return f"kontakt-{community_id}@faults.example.dk"


def _token(role: str, actor_id: str, communities: list[str] | None = None) -> str:
    return test_token(role, actor_id, communities)


ADMIN = _token("admin", "admin-fault")
GUIDE = _token("guide", "guide-fault")
PROF = _token("professional", REFERRER)
SYSTEM = _token("municipal_system", "system-faults")
CONTACT = _token("community_contact", "contact-fault", list(COMMUNITIES))


class Lost(Exception):
    """The answer to a request that went out never came: the service may or may not have acted."""


@dataclass
class Ledger:
    """What the system accepted, and so what it implies."""

    citizens: set[str] = field(default_factory=set)
    referrals: dict[str, str] = field(default_factory=dict)  # referral id -> community id
    welcomes: set[str] = field(default_factory=set)
    to_welcome: set[str] = field(default_factory=set)  # referrals whose community will confirm
    announced: set[str] = field(default_factory=set)  # referrals whose welcome_contact mail arrived
    requests: int = 0
    retries: int = 0
    lost_answers: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        """Accepted inputs, each one event: a citizen registered, a referral, a welcome."""
        return len(self.citizens) + len(self.referrals) + len(self.welcomes)


@dataclass
class Driver:
    system: System
    ledger: Ledger
    chains: int  # citizen + referral pairs to make
    batch: int  # chains per CloudEvents batch, and per run of API chains
    run_id: str
    workers: int = 3
    rate: float = 10.0  # chains a second at most: a steady load, not a flood
    done_chains: int = 0
    _mails_seen: int = 0
    _welcome_queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    # ------------------------------------------------------------------ sending

    async def send(self, client: httpx.AsyncClient, method: str, url: str, *, replayable: bool, **kw: Any) -> Any:
        """The answer once the service takes the request (retried while it is down). Raises
        Lost when a non-replayable request went out and its answer did not come back."""
        self.ledger.requests += 1
        while True:
            try:
                response = await client.request(method, url, **kw)
            except NOT_SENT:
                self.ledger.retries += 1
                await asyncio.sleep(0.2)
                continue
            except httpx.TransportError:
                self.ledger.lost_answers += 1
                if not replayable:
                    raise Lost(f"{method} {url}") from None
                await asyncio.sleep(0.2)
                continue
            if response.status_code >= 500:  # not taken (rolled back): send it again
                self.ledger.retries += 1
                await asyncio.sleep(0.2)
                continue
            return response

    def _ok(self, response: httpx.Response, *statuses: int) -> dict[str, Any]:
        if response.status_code not in statuses:
            self.ledger.errors.append(f"{response.request.method} {response.request.url.path}: {response.text[:300]}")
            raise AssertionError(self.ledger.errors[-1])
        body: dict[str, Any] = response.json()
        return body

    # ------------------------------------------------------------------ the world

    async def prepare(self, client: httpx.AsyncClient) -> None:
        """Communities with a welcome contact each, and the referrer, known to every service."""
        now = datetime.now(UTC)
        events = [
            _cloudevent(
                CommunityRegistered(
                    community_id=community_id,
                    organization_id="org-faults",
                    name=f"Fællesskab {community_id}",
                    categories=["social"],
                    area="vestervang",
                    kind="permanent",
                    accepts_special_needs=True,
                    contact=WelcomeContact(name="Kontakt", email=contact_email(community_id)),
                ),
                f"{self.run_id}-{community_id}",
                now,
            )
            for community_id in COMMUNITIES
        ]
        answer = await self._ingest(client, self.system.url("catalogue"), events)
        assert answer == {"accepted": len(COMMUNITIES)}, answer
        referrer = {
            "actor_id": REFERRER,
            "role": "professional",
            "sector": "job_centre",
            "area": "vestervang",
            "contact": {"email": REFERRER_EMAIL},
        }
        self._ok(
            await self.send(
                client, "POST", self._r("/v1/referrers"), replayable=False, json=referrer, headers=_auth(ADMIN)
            ),
            201,
        )
        for _ in range(300):
            known = await self.send(client, "GET", self._r("/v1/communities"), replayable=True, headers=_auth(ADMIN))
            if set(COMMUNITIES) <= {c["community_id"] for c in known.json()}:
                return
            await asyncio.sleep(0.2)
        raise AssertionError("the referrals service never learnt the catalogue's communities")

    def _r(self, path: str) -> str:
        return self.system.url("referrals") + path

    # ------------------------------------------------------------------ the inputs

    async def api_chain(self, client: httpx.AsyncClient, i: int) -> None:
        """A professional registers a citizen and refers them."""
        while True:
            try:
                citizen = await self.send(
                    client, "POST", self._r("/v1/citizens"), replayable=False, json={}, headers=_auth(PROF)
                )
                ref = str(self._ok(citizen, 201)["citizen_ref"])
                break
            except Lost:
                continue  # at worst an unreferred citizen is left over; no referral depends on it
        self.ledger.citizens.add(ref)
        body = {"citizen_ref": ref, "community_id": COMMUNITIES[i % len(COMMUNITIES)]}
        while True:
            try:
                response = await self.send(
                    client, "POST", self._r("/v1/referrals"), replayable=False, json=body, headers=_auth(PROF)
                )
                referral_id = str(self._ok(response, 201)["referral_id"])
                break
            except Lost:
                existing = await self._referrals_of(client, ref)
                if existing:
                    referral_id = existing[0]
                    break
        self._accepted_referral(referral_id, body["community_id"], i)

    async def _referrals_of(self, client: httpx.AsyncClient, citizen_ref: str) -> list[str]:
        listed = await self.send(
            client,
            "GET",
            self._r("/v1/referrals"),
            replayable=True,
            params={"citizen": citizen_ref},
            headers=_auth(GUIDE),
        )
        if listed.status_code != 200:
            self._ok(listed, 200)  # records and raises
        return [str(item["referral_id"]) for item in listed.json()]

    async def ingest_batch(self, client: httpx.AsyncClient, first: int, count: int) -> None:
        """A municipal system sends citizens and the referrals it made, as CloudEvents."""
        now = datetime.now(UTC)
        events: list[dict[str, Any]] = []
        made: list[tuple[int, str, str]] = []
        for i in range(first, first + count):
            ref, referral_id = f"fc-{self.run_id}-{i}", f"fr-{self.run_id}-{i}"
            community_id = COMMUNITIES[i % len(COMMUNITIES)]
            events.append(_cloudevent(CitizenRegistered(citizen_ref=ref), f"{ref}-registered", now))
            created = ReferralCreated(
                referral_id=referral_id, citizen_ref=ref, community_id=community_id, referrer_id=REFERRER
            )
            events.append(_cloudevent(created, f"{referral_id}-created", now))
            made.append((i, ref, referral_id))
        answer = await self._ingest(client, self._r(""), events)
        assert set(answer) <= {"accepted", "duplicate"} and sum(answer.values()) == len(events), answer
        for i, ref, referral_id in made:
            self.ledger.citizens.add(ref)
            self._accepted_referral(referral_id, COMMUNITIES[i % len(COMMUNITIES)], i)

    async def _ingest(self, client: httpx.AsyncClient, base: str, events: list[dict[str, Any]]) -> dict[str, int]:
        """Post a batch until it is taken; the same event ids again are answered `duplicate`."""
        body = json.dumps(events).encode()
        headers = {**_auth(SYSTEM), "content-type": BATCH_CONTENT_TYPE}
        response = await self.send(client, "POST", f"{base}/v1/events", replayable=True, content=body, headers=headers)
        results = self._ok(response, 200)["results"]
        counts: dict[str, int] = {}
        for result in results:
            if result["status"] == "rejected":
                self.ledger.errors.append(f"ingest rejected {result['type']}: {result['reason']}")
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        return counts

    def _accepted_referral(self, referral_id: str, community_id: str, i: int) -> None:
        self.ledger.referrals[referral_id] = community_id
        if i % 2 == 0:  # every other community confirms the welcome
            self.ledger.to_welcome.add(referral_id)
        self.done_chains += 1

    async def welcome(self, client: httpx.AsyncClient, referral_id: str) -> None:
        """The community's contact confirms the welcome (after the mail told them who is coming)."""
        path = self._r(f"/v1/referrals/{referral_id}/welcome")
        sent_before = False
        while True:
            try:
                response = await self.send(client, "POST", path, replayable=False, headers=_auth(CONTACT))
            except Lost:
                sent_before = True
                continue
            if response.status_code == 409 and sent_before:  # the lost attempt had done it
                shown = await self.send(
                    client, "GET", self._r(f"/v1/referrals/{referral_id}"), replayable=True, headers=_auth(GUIDE)
                )
                if self._ok(shown, 200)["status"] == "welcomed":
                    break
            self._ok(response, 200)
            break
        self.ledger.welcomes.add(referral_id)

    # ------------------------------------------------------------------ the mail the load waits for

    def read_mail(self) -> None:
        """New mails: a welcome_contact names its referral in its one-click links."""
        messages = self.system.mailbox.messages
        with self.system.mailbox.lock:
            new = messages[self._mails_seen :]
            self._mails_seen = len(messages)
        now = datetime.now(UTC)
        for message in new:
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            for token in LINK.findall(text):
                try:
                    link = verify_link(session_keys().link_key, token, now)
                except InvalidLink:
                    continue
                if link.verb == "welcome" and link.subject_id not in self.ledger.announced:
                    self.ledger.announced.add(link.subject_id)
                    if link.subject_id in self.ledger.to_welcome:
                        self._welcome_queue.put_nowait(link.subject_id)

    async def run(self, client: httpx.AsyncClient, faults_done: asyncio.Event) -> None:
        """Chains in runs of `batch`, alternately by API and by ingest, by a few concurrent
        workers: at least `chains`, and on until the faults are over, so every fault strikes
        under load."""
        next_first = 0
        loop = asyncio.get_running_loop()
        began = loop.time()

        async def chain_worker() -> None:
            nonlocal next_first
            while next_first < self.chains or not faults_done.is_set():
                first = next_first
                next_first += self.batch
                await asyncio.sleep(began + first / self.rate - loop.time())
                if (first // self.batch) % 2:
                    await self.ingest_batch(client, first, self.batch)
                else:
                    for n in range(first, first + self.batch):
                        await asyncio.sleep(began + n / self.rate - loop.time())
                        await self.api_chain(client, n)

        await asyncio.gather(*(chain_worker() for _ in range(self.workers)))

    async def welcomer(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.read_mail()
            while not self._welcome_queue.empty():
                await self.welcome(client, self._welcome_queue.get_nowait())
            await asyncio.sleep(0.25)

    def welcomes_done(self) -> bool:
        return self.ledger.to_welcome <= self.ledger.welcomes


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _cloudevent(event: Event, event_id: str, time: datetime) -> dict[str, Any]:
    return Envelope.wrap(event, source=SYSTEM_SOURCE, time=time, id=event_id).to_dict()
