"""The fault suite: a steady mixed load (ingest, referrals, welcomes) over real HTTP while a
supervisor SIGKILLs each service in turn at random points, for N rounds, and kills and
restarts nats-server once mid-flight. Afterwards every service's state, the analytics metrics
and the mails in the SMTP server must equal what the accepted inputs imply: nothing lost,
nothing applied twice.

    make soak    # SOAK=1: more rounds, thousands of inputs

The seed is printed; FAULTS_SEED=<seed> replays the same kill points.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.natsserver import binary
from tests.faults.audit import audit, quiesce
from tests.faults.load import Driver, Ledger
from tests.faults.system import SERVICES, System, running_system
from tests.helpers import tls

SOAK = os.environ.get("SOAK") == "1"
# The sizes, in one place. Normal: one round over a few hundred inputs (about a minute on two
# cores); soak: five rounds over thousands.
ROUNDS = 5 if SOAK else 1
CHAINS = 3000 if SOAK else 160  # citizen + referral pairs; every other one is welcomed too
INGEST_BATCH = 20 if SOAK else 10  # chains per CloudEvents batch (batches alternate with API chains)
CHAIN_RATE = 20.0 if SOAK else 8.0  # chains a second at most (the load runs on at this pace until the faults are over)
DRIVER_WORKERS = 3
SETTLE_SECONDS = 240 if SOAK else 90  # for the backlog to drain and the system to go quiet
TIMEOUT = 3600 if SOAK else 300

try:
    binary()
    NATS_MISSING = ""
except RuntimeError as exc:
    NATS_MISSING = str(exc)


@dataclass
class Kills:
    services: int = 0
    nats: int = 0
    during_outage: int = 0  # inputs accepted while nats-server was down (kept in the outboxes)


async def supervise(system: System, driver: Driver, rng: random.Random, kills: Kills) -> None:
    """For each round, SIGKILL each service in turn at a random point of the load and start it
    again; once, at a random point, SIGKILL nats-server and start it on the same port and store."""
    plan: list[str] = [name for _ in range(ROUNDS) for name in SERVICES]
    plan.insert(rng.randrange(len(plan) + 1), "nats")
    points = sorted(rng.uniform(0.05, 0.9) for _ in plan)  # shares of the chains made
    for victim, point in zip(plan, points, strict=True):
        while driver.done_chains < point * driver.chains:
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(0, 0.5))  # not always on a request's boundary
        if victim == "nats":
            before = driver.ledger.events
            system.kill_nats()
            await asyncio.sleep(rng.uniform(2.0, 5.0))  # the services go on taking requests meanwhile
            kills.during_outage = driver.ledger.events - before
            await asyncio.to_thread(system.start_nats)
            kills.nats += 1
            continue
        service = system.services[victim]
        service.kill()
        kills.services += 1
        await asyncio.sleep(rng.uniform(0, 1.0))
        service.start()
        await asyncio.to_thread(service.wait_ready)


async def keep_alive(system: System, stop: asyncio.Event, crashes: list[str]) -> None:
    """A service that exits on its own is a crash: noted, and started again (as systemd would)."""
    while not stop.is_set():
        for service in system.services.values():
            if service.exited() and service.process is not None:
                crashes.append(f"{service.name} exited with {service.process.returncode}")
                service.start()
        await asyncio.sleep(0.5)


@pytest.mark.skipif(bool(NATS_MISSING), reason=NATS_MISSING or "nats-server is there")
@pytest.mark.timeout(TIMEOUT)
async def test_no_accepted_input_is_lost_or_applied_twice_through_kills(tmp_path: Path) -> None:
    seed = int(os.environ.get("FAULTS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nfaults: seed={seed} rounds={ROUNDS} chains={CHAINS}")
    rng = random.Random(seed)
    started = time.monotonic()
    ledger = Ledger()
    kills = Kills()
    crashes: list[str] = []
    with running_system(tmp_path) as system:
        up = time.monotonic()
        driver = Driver(system, ledger, CHAINS, INGEST_BATCH, uuid.uuid4().hex[:8], DRIVER_WORKERS, CHAIN_RATE)
        async with httpx.AsyncClient(timeout=60, verify=tls()) as client:
            await driver.prepare(client)
            stop_welcomes, stop_watch = asyncio.Event(), asyncio.Event()
            welcomer = asyncio.create_task(driver.welcomer(client, stop_welcomes))
            watch = asyncio.create_task(keep_alive(system, stop_watch, crashes))
            faults_done = asyncio.Event()

            async def faults() -> None:
                try:
                    await supervise(system, driver, rng, kills)
                finally:
                    faults_done.set()

            async with asyncio.TaskGroup() as group:  # a failure in either stops the other
                group.create_task(driver.run(client, faults_done))
                group.create_task(faults())
            loaded = time.monotonic()
            # The welcomes wait for their communities' mails, which may still be on their way.
            deadline = loaded + SETTLE_SECONDS
            while not driver.welcomes_done() and not welcomer.done() and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            stop_welcomes.set()
            await welcomer
            moving = await quiesce(system, asyncio.get_running_loop().time() + max(deadline - time.monotonic(), 20))
            stop_watch.set()
            await watch
        found = await asyncio.to_thread(audit, system, ledger)
    took = time.monotonic() - started
    print(
        f"faults: rounds={ROUNDS} events={ledger.events} kills={kills.services} nats_restarts={kills.nats} "
        f"lost={found.lost_count} duplicated={found.duplicated_count} mails={found.mails}/{found.mails_expected}"
    )
    print(
        f"faults: seed={seed} requests={ledger.requests} retried={ledger.retries} answers_lost={ledger.lost_answers} "
        f"accepted_during_nats_outage={kills.during_outage} resent_mails={found.resent} crashes={len(crashes)} "
        f"start={up - started:.0f}s load={loaded - up:.0f}s total={took:.0f}s"
    )
    for line in [*found.lost, *found.duplicated, *crashes, *moving, *ledger.errors[:10]]:
        print(f"faults:   {line}")
    assert not ledger.errors, ledger.errors[:10]
    assert found.lost_count == 0 and found.duplicated_count == 0, (found.lost, found.duplicated, moving)
    assert found.mails == found.mails_expected
    assert kills.services == ROUNDS * len(SERVICES) and kills.nats == 1
