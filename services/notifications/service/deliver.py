"""The worker: two background jobs. The timer loop fires due timers; the delivery loop sends
pending deliveries outside the deciding transaction and records each outcome (sent, retry
later, or failed for good: the dead letter, kept and visible through the API)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifications import store
from services.notifications.channels import BulkChannel, Channel, Job, SendFailed
from services.notifications.domain import PERSONAL_CHANNELS
from services.notifications.messages import Rendered
from services.notifications.routing import retry_at
from services.notifications.service import timers
from services.notifications.service.core import Notifications
from shared.events.notifications import NotificationDeliveryFailed, NudgeSent
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.notifications.worker")


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    error: str | None  # None: sent


def _job(row: store.DeliveryRow, nudge: store.NudgeRow, message: Rendered, secret: str | None) -> Job:
    payload: dict[str, object] = {
        "type": "dk.vejviser.nudge",
        "delivery_id": row.id,
        "nudge_id": nudge.id,
        "rule": nudge.rule,
        "recipient_id": nudge.recipient_id,
        "referral_id": nudge.referral_id,
        "title": message.subject,
        "created_at": nudge.created_at.isoformat(),
    }
    return Job(row.id, row.channel, row.address, message.subject, message.text, message.html, payload, secret)


class Worker:
    def __init__(self, app: Notifications, channels: Mapping[str, Channel]) -> None:
        self.app = app
        self.channels = channels
        self.settings = app.settings
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ timers

    async def fire_due(self) -> int:
        fired = await asyncio.to_thread(self.app.runtime.write, lambda uow: timers.fire_due(self.app, uow))
        if fired:
            self.wake()
        return fired

    # ------------------------------------------------------------------ deliveries

    def _claim(self, uow: UnitOfWork) -> tuple[list[Job], list[Outcome]]:
        """The claimed deliveries as jobs to send, and those whose message does not render
        (a broken template fails its own deliveries, which are retried, not the others)."""
        now = uow.now()
        lease = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        jobs, broken = [], []
        for row in store.claim_due_deliveries(uow.session, now, lease):
            nudge = uow.session.get(store.NudgeRow, row.nudge_id)
            assert nudge is not None
            try:
                message = self.app.messages.render_stored(nudge.rule, nudge.context, sent_at=now)
            except Exception as exc:
                log.exception("message does not render", extra={"rule": nudge.rule, "nudge_id": nudge.id})
                broken.append(Outcome(row.id, f"{nudge.rule}: the message does not render: {exc}"))
                continue
            hook = uow.session.get(store.WebhookRow, row.webhook_id) if row.webhook_id else None
            jobs.append(_job(row, nudge, message, hook.secret if hook else None))
        return jobs, broken

    def _settle(self, uow: UnitOfWork, outcomes: list[Outcome]) -> None:
        session, now, settings = uow.session, uow.now(), self.settings
        for outcome in outcomes:
            row = session.get(store.DeliveryRow, outcome.delivery_id)
            if row is None or row.status != "pending":
                continue
            nudge = session.get(store.NudgeRow, row.nudge_id)
            assert nudge is not None
            personal = row.channel in PERSONAL_CHANNELS
            if outcome.error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                if personal and nudge.status != "sent":
                    nudge.status, nudge.sent_at = "sent", now
                    uow.stage(
                        NudgeSent(
                            nudge_id=nudge.id,
                            rule=nudge.rule,
                            recipient_id=nudge.recipient_id,
                            channel=row.channel,
                            referral_id=nudge.referral_id,
                        )
                    )
                continue
            row.last_error = outcome.error[:500]
            if row.attempts < settings.delivery_max_attempts:
                row.next_attempt_at = retry_at(row.attempts, settings.delivery_backoff_seconds, now)
                continue
            row.status = "failed"
            uow.stage(
                NotificationDeliveryFailed(
                    nudge_id=nudge.id,
                    rule=nudge.rule,
                    recipient_id=nudge.recipient_id,
                    channel=row.channel,
                    reason=row.last_error,
                    referral_id=nudge.referral_id,
                )
            )
            session.flush()
            if personal and nudge.status == "pending" and store.unsettled_deliveries(session, nudge.id) == 0:
                nudge.status = "failed"

    async def deliver_due(self) -> int:
        runtime = self.app.runtime
        jobs, broken = await asyncio.to_thread(runtime.write, self._claim)
        if not jobs and not broken:
            return 0
        now = self.app.now()
        by_channel: dict[str, list[Job]] = {}
        for job in jobs:
            by_channel.setdefault(job.channel, []).append(job)
        sent = await asyncio.gather(*(self._send_all(name, group, now) for name, group in by_channel.items()))
        outcomes = broken + [outcome for group in sent for outcome in group]
        await asyncio.to_thread(runtime.write, lambda uow: self._settle(uow, outcomes))
        return len(outcomes)

    async def _send_all(self, name: str, jobs: list[Job], now: datetime) -> list[Outcome]:
        """One channel's jobs: together where the channel sends in bulk (e-mail), else each."""
        channel = self.channels.get(name)
        if not isinstance(channel, BulkChannel):
            return list(await asyncio.gather(*(self._send(job, now) for job in jobs)))
        try:
            failures = await channel.send_all(jobs, now)
        except Exception as exc:  # a bug in a channel must not stop the worker
            log.exception("channel crashed", extra={"channel": name})
            return [Outcome(job.delivery_id, f"{name}: {type(exc).__name__}") for job in jobs]
        return [
            Outcome(job.delivery_id, None if failed is None else str(failed))
            for job, failed in zip(jobs, failures, strict=True)
        ]

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

    # ------------------------------------------------------------------ the background jobs

    def wake(self) -> None:
        """Safe from any thread (the consumers call it after a batch)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _pause(self, stop: asyncio.Event, wake: asyncio.Event | None = None) -> None:
        waits = [asyncio.ensure_future(stop.wait())] + ([asyncio.ensure_future(wake.wait())] if wake else [])
        _, pending = await asyncio.wait(waits, timeout=self.settings.tick_seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_timers(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.fire_due()
            except Exception as exc:  # database blip: try again next tick
                log.warning("timer loop: %s", type(exc).__name__)
            await self._pause(stop)

    async def run_deliveries(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()
            try:
                while not stop.is_set() and await self.deliver_due():
                    pass
            except Exception as exc:  # database or network blip: try again next tick
                log.warning("delivery loop: %s", type(exc).__name__)
            await self._pause(stop, self._wake)
