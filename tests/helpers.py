"""Small helpers for tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `check` (sync or async) until it returns a truthy value; return that value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


async def wait_until_ready(base_url: str, timeout: float = 20.0) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base_url) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=timeout, interval=0.1)


class ServedApp:
    """A FastAPI app served by uvicorn on a free port inside the test's event loop: real HTTP,
    real lifespan (runtime, broker, relay and consumers), stopped on exit."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        from shared.natsserver import free_port

        self.app = app
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ServedApp:
        import uvicorn

        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on")
        self._server = uvicorn.Server(config)
        task = self._task = asyncio.create_task(self._server.serve())
        await eventually(lambda: self._server.started or task.done(), timeout=20)
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        return self

    async def __aexit__(self, *_: object) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=20)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def client(self, token: str | None = None) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)


def token(role: str, actor_id: str | None = None, communities: list[str] | None = None) -> str:
    """A bearer token signed with the development secret the test settings use."""
    from shared.auth import issue_token
    from shared.settings import DEV_TOKEN_SECRET

    return issue_token(DEV_TOKEN_SECRET, actor_id=actor_id or f"test-{role}", role=role, communities=communities)


async def stream_events(nats_url: str, context: str) -> list[Any]:
    """Every envelope currently stored in a context's stream, in order."""
    import nats

    from shared.bus import stream_name
    from shared.events import parse

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream_name(context))
        envelopes = []
        if info.state.messages:
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    raw = await js.get_msg(stream_name(context), seq)
                except Exception:
                    continue
                envelopes.append(parse(raw.data or b"")[0])
        return envelopes
    finally:
        await nc.close()


async def publish(nats_url: str, *envelopes: Any) -> None:
    """Publish envelopes straight to JetStream, as another service's relay would."""
    import nats

    from shared.bus import ensure_streams, publish_event

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        for envelope in envelopes:
            await publish_event(js, envelope)
    finally:
        await nc.close()


class MailBox:
    """aiosmtpd handler that keeps every received message, parsed (a real SMTP server's
    inbox: `aiosmtpd.controller.Controller(MailBox(), ...)`)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str, subject: str | None = None) -> list[EmailMessage]:
        """Messages to `address`; with `subject`, only those whose subject contains it."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address and (subject is None or subject in m["Subject"])]
