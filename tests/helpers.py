"""Small helpers for tests."""

from __future__ import annotations

import asyncio
import atexit
import email
import email.policy
import functools
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from shared.settings import SERVICES
from shared.tokens import DevKeys, SigningKey, ensure_dev_keys, load_signing_keys, mint


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS context of every httpx client the tests open (`verify=tls()`): httpx's default,
    certifi's CAs, made once. Left to itself httpx makes one per client and reads the CA bundle
    each time (about 50 ms; a run opens some 2,000 clients). The tests speak plain HTTP to
    127.0.0.1, so this changes nothing else."""
    import httpx

    return httpx.create_ssl_context()


# The first pause between two polls; each later one doubles, up to the caller's `interval`.
FIRST_PAUSE = 0.01


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `check` (sync or async) until it returns a truthy value; return that value.

    The pauses start short and double up to `interval`: most conditions hold within a few tens
    of milliseconds (an event consumed, a mail sent) and are seen as soon, while a long wait
    polls no more often than `interval`."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    pause = min(FIRST_PAUSE, interval)
    while asyncio.get_running_loop().time() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(pause)
        pause = min(pause * 2, interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


async def wait_until_ready(base_url: str, timeout: float = 20.0) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, verify=tls()) as client:

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

        # As shared/serve.py runs a service: uvicorn leaves X-Forwarded-For to shared/proxies.py.
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on", proxy_headers=False
        )
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
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30, verify=tls())


class ServedApps:
    """Several apps served together: started one after another, in the order given, and
    stopped all at once on exit. A service takes up to a second to stop (its consumers finish
    the fetch they are in), and no test looks at the order its services stop in."""

    def __init__(self) -> None:
        self.started: list[ServedApp] = []

    async def serve(self, app: Any, port: int | None = None) -> ServedApp:
        return await self.enter(ServedApp(app, port))

    async def enter(self, served: ServedApp) -> ServedApp:
        """Start `served` (made beforehand, e.g. for its port) and stop it with the others."""
        await served.__aenter__()
        self.started.append(served)
        return served

    async def __aenter__(self) -> ServedApps:
        return self

    async def __aexit__(self, *_: object) -> None:
        stopped = await asyncio.gather(*(s.__aexit__(None, None, None) for s in self.started), return_exceptions=True)
        self.started = []
        for outcome in stopped:
            if isinstance(outcome, BaseException):
                raise outcome


TEST_ISSUER = "https://issuer.vejviser.test"
# Tests run longer than a token may live in production (the web package's tokens are minted
# at import): the session allows 12 hours, as `make run` does.
TEST_TOKEN_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class SessionKeys:
    """The session's token key pair (kid `test-…`, in a temporary folder, not var/), its JWKS,
    and its link and draft keys, made as `make run` makes development's. tests/conftest.py
    points every service at them."""

    files: DevKeys
    signing: SigningKey

    @property
    def signing_key_file(self) -> Path:
        return self.files.signing_key_file

    @property
    def jwks_file(self) -> Path:
        return self.files.jwks_file

    @property
    def link_key(self) -> str:
        return self.files.link_key

    def environment(self) -> dict[str, str]:
        """The settings every service of the session reads (the web signs with the key)."""
        return self.files.environment(TEST_ISSUER, TEST_TOKEN_LIFETIME)


@functools.cache
def session_keys() -> SessionKeys:
    """Made once a process (so a module may mint tokens at import), removed at its exit."""
    folder = Path(tempfile.mkdtemp(prefix="vejviser-test-keys-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    files = ensure_dev_keys(folder, kid_prefix="test-")
    return SessionKeys(files, load_signing_keys(files.signing_key_file)[0])


def token(
    role: str,
    actor_id: str | None = None,
    communities: list[str] | None = None,
    *,
    audience: str | Sequence[str] = SERVICES,
    ttl: timedelta = TEST_TOKEN_LIFETIME,
) -> str:
    """A bearer token signed with the session's test key, for every service (by default)."""
    return mint(
        session_keys().signing,
        issuer=TEST_ISSUER,
        audience=audience,
        actor_id=actor_id or f"test-{role}",
        role=role,
        communities=communities or (),
        ttl=ttl,
    )


def production_settings(**overrides: Any) -> dict[str, Any]:
    """Settings a service starts with outside development (the session's keys, which are not
    development keys): what a production test adds the setting it is about to."""
    keys = session_keys()
    return {
        "environment": "production",
        "token_jwks": str(keys.jwks_file),
        "token_issuer": TEST_ISSUER,
        "link_signing_key": keys.link_key,
        **overrides,
    }


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
        self.peers: list[object] = []  # each message's connection: the client's address and port
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.peers.append(session.peer)
        return "250 OK"

    def to(self, address: str, subject: str | None = None) -> list[EmailMessage]:
        """Messages to `address`; with `subject`, only those whose subject contains it."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address and (subject is None or subject in m["Subject"])]
