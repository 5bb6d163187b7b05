"""The external channels behind one interface: `send(job)` succeeds or raises `SendFailed`.

The inbox is not here: a message is in the recipient's inbox as soon as it is decided.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol, runtime_checkable

import httpx

from services.notifications.routing import sign_webhook
from services.notifications.settings import NotificationSettings
from shared.mail import Mail, MailFailed

SIGNATURE_HEADER = "X-Vejviser-Signature"
TIMESTAMP_HEADER = "X-Vejviser-Timestamp"
DELIVERY_HEADER = "X-Vejviser-Delivery"


class SendFailed(Exception):
    """The channel did not take the message; the reason is safe to store (no personal data)."""


@dataclass(frozen=True)
class Job:
    """Everything a channel needs for one delivery attempt, read before the send."""

    delivery_id: str
    channel: str
    address: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any]  # the webhook body
    secret: str | None = None


class Channel(Protocol):
    async def send(self, job: Job, now: datetime) -> None: ...


@runtime_checkable
class BulkChannel(Channel, Protocol):
    """A channel that sends a batch of jobs better together than one by one."""

    async def send_all(self, jobs: Sequence[Job], now: datetime) -> list[SendFailed | None]:
        """Each job's failure, or None, in the jobs' order."""
        ...


class EmailChannel:
    """Plain text with an HTML alternative, over SMTP (the local sink in development)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.smtp = settings.smtp
        self.connections = settings.smtp_connections

    @staticmethod
    def mail(job: Job) -> Mail:
        return Mail(
            job.address, job.subject, job.text, job.html, job.delivery_id, ((DELIVERY_HEADER, job.delivery_id),)
        )

    def build(self, job: Job, now: datetime) -> EmailMessage:
        return self.smtp.build(self.mail(job), now)

    def _send(self, job: Job, now: datetime) -> None:
        try:
            self.smtp.send(self.mail(job), now)
        except MailFailed as exc:
            raise SendFailed(str(exc)) from exc

    async def send(self, job: Job, now: datetime) -> None:
        await asyncio.to_thread(self._send, job, now)

    async def send_all(self, jobs: Sequence[Job], now: datetime) -> list[SendFailed | None]:
        """The jobs over at most `SMTP_CONNECTIONS` connections at once, each sending its share
        in order (`Smtp.send_all`): a connection per mail cost a handshake, and a login, each."""
        shares = min(self.connections, len(jobs))
        if not shares:
            return []
        parts = [list(range(start, len(jobs), shares)) for start in range(shares)]
        sent = await asyncio.gather(
            *(asyncio.to_thread(self.smtp.send_all, [self.mail(jobs[i]) for i in part], now) for part in parts)
        )
        failures: list[SendFailed | None] = [None] * len(jobs)
        for part, outcomes in zip(parts, sent, strict=True):
            for i, failed in zip(part, outcomes, strict=True):
                failures[i] = None if failed is None else SendFailed(str(failed))
        return failures


class SmsGateway(Protocol):
    """An SMS provider (none is chosen yet; tests use a fake one)."""

    async def send_sms(self, phone: str, text: str) -> None: ...


class SmsChannel:
    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    async def send(self, job: Job, now: datetime) -> None:
        # An SMS is short: the subject says what it is about, the rest is in the inbox.
        try:
            await self.gateway.send_sms(job.address, f"Vejviser: {job.subject}. Se mere i Vejviser.")
        except SendFailed:
            raise
        except Exception as exc:
            raise SendFailed(f"sms: {type(exc).__name__}") from exc


class WebhookChannel:
    """POST JSON signed with the subscriber's secret: `X-Vejviser-Signature: sha256=<hex>`."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.timeout = settings.webhook_timeout_seconds

    @staticmethod
    def body(job: Job) -> bytes:
        return json.dumps(job.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()

    async def send(self, job: Job, now: datetime) -> None:
        body = self.body(job)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_webhook(job.secret or "", body),
            TIMESTAMP_HEADER: str(int(now.timestamp())),
            DELIVERY_HEADER: job.delivery_id,
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(job.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendFailed(f"webhook: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise SendFailed(f"webhook: HTTP {response.status_code}")
