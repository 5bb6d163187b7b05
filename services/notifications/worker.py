"""The two background loops: the timer loop fires due timers, the delivery worker sends
pending deliveries outside the deciding transaction and records the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifications import domain, store
from services.notifications.channels import Channel, Job, SendFailed
from services.notifications.engine import Engine
from shared.events.notifications import NotificationDeliveryFailed, NudgeSent
from shared.runtime import Runtime

log = logging.getLogger("vejviser.notifications.worker")


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    error: str | None  # None: sent


class Worker:
    def __init__(self, runtime: Runtime, engine: Engine, channels: Mapping[str, Channel]) -> None:
        self.runtime = runtime
        self.engine = engine
        self.channels = channels
        self.settings = engine.settings
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ timers

    def _fire_due(self) -> int:
        now = self.engine.clock.now()
        with self.runtime.db.transaction() as session:
            fired = self.engine.fire_due(session, now)
        if fired:
            self.runtime.committed()
        return fired

    async def fire_due(self) -> int:
        return await asyncio.to_thread(self._fire_due)

    # ------------------------------------------------------------------ deliveries

    def _claim(self, now: datetime) -> list[Job]:
        lease = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.runtime.db.transaction() as session:
            jobs = []
            for row in store.claim_due_deliveries(session, now, lease):
                nudge = session.get(store.NudgeRow, row.nudge_id)
                assert nudge is not None
                hook = session.get(store.WebhookRow, row.webhook_id) if row.webhook_id else None
                payload = {
                    "type": "dk.vejviser.nudge",
                    "delivery_id": row.id,
                    "nudge_id": nudge.id,
                    "rule": nudge.rule,
                    "recipient_id": nudge.recipient_id,
                    "referral_id": nudge.referral_id,
                    "title": nudge.title,
                    "created_at": nudge.created_at.isoformat(),
                }
                jobs.append(
                    Job(
                        row.id,
                        row.channel,
                        row.address,
                        nudge.title,
                        nudge.body_text,
                        nudge.body_html,
                        payload,
                        hook.secret if hook else None,
                    )
                )
            return jobs

    def _settle(self, outcomes: list[Outcome], now: datetime) -> None:
        s = self.settings
        with self.runtime.db.transaction() as session:
            for outcome in outcomes:
                row = session.get(store.DeliveryRow, outcome.delivery_id)
                if row is None or row.status != "pending":
                    continue
                nudge = session.get(store.NudgeRow, row.nudge_id)
                assert nudge is not None
                personal = row.channel in domain.PERSONAL_CHANNELS
                if outcome.error is None:
                    row.status, row.sent_at, row.last_error = "sent", now, None
                    if personal and nudge.status != "sent":
                        nudge.status, nudge.sent_at = "sent", now
                        self.runtime.stage(
                            session,
                            NudgeSent(
                                nudge_id=nudge.id,
                                rule=nudge.rule,
                                recipient_id=nudge.recipient_id,
                                channel=row.channel,
                                referral_id=nudge.referral_id,
                            ),
                        )
                    continue
                row.last_error = outcome.error[:500]
                if row.attempts < s.delivery_max_attempts:
                    row.next_attempt_at = domain.retry_at(row.attempts, s.delivery_backoff_seconds, now)
                    continue
                row.status = "failed"  # the dead letter: kept, visible through the API
                self.runtime.stage(
                    session,
                    NotificationDeliveryFailed(
                        nudge_id=nudge.id,
                        rule=nudge.rule,
                        recipient_id=nudge.recipient_id,
                        channel=row.channel,
                        reason=row.last_error,
                        referral_id=nudge.referral_id,
                    ),
                )
                session.flush()
                if personal and nudge.status == "pending" and store.unsettled_deliveries(session, nudge.id) == 0:
                    nudge.status = "failed"
        self.runtime.committed()

    async def deliver_due(self) -> int:
        now = self.engine.clock.now()
        jobs = await asyncio.to_thread(self._claim, now)
        if not jobs:
            return 0
        outcomes = await asyncio.gather(*(self._send(job, now) for job in jobs))
        await asyncio.to_thread(self._settle, list(outcomes), self.engine.clock.now())
        return len(jobs)

    async def _send(self, job: Job, now: datetime) -> Outcome:
        channel = self.channels.get(job.channel)
        if channel is None:
            return Outcome(job.delivery_id, f"{job.channel}: channel is not enabled")
        try:
            await channel.send(job, now)
        except SendFailed as exc:
            return Outcome(job.delivery_id, str(exc))
        except Exception as exc:  # a bug in a channel must not stop the worker
            log.exception("channel crashed", extra={"channel": job.channel})
            return Outcome(job.delivery_id, f"{job.channel}: {type(exc).__name__}")
        return Outcome(job.delivery_id, None)

    # ------------------------------------------------------------------ the loop

    def wake(self) -> None:
        """Safe from any thread (the consumers call it after a batch)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            try:
                await self.fire_due()
                while await self.deliver_due():
                    pass
            except Exception as exc:  # database or network blip: try again next tick
                log.warning("notification worker: %s", type(exc).__name__)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.tick_seconds)

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run(), name="notifications-worker")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                self._task.cancel()
            self._task = None
