"""The request limits middleware, called as ASGI: body size (declared or streamed), JSON depth
and UTF-8, and what reaches the app."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from shared.limits import RequestLimits, too_deep

LIMIT = 2048
DEPTH = 8


class Recorder:
    """The app behind the middleware: records the body it read and answers 200."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.body = b"".join(chunks)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class Client:
    """Feeds the body in chunks and counts what was asked for; collects the answer."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.read >= len(self.chunks):
            return {"type": "http.disconnect"}
        self.read += 1
        return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": self.read < len(self.chunks)}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def error(self) -> str:
        return str(json.loads(self.sent[1]["body"])["error"]["message"])


async def call(
    chunks: list[bytes],
    *,
    method: str = "POST",
    content_type: bytes | None = b"application/json",
    length: int | bool | None = True,
) -> tuple[Client, Recorder]:
    """`length`: True gives the Content-Length, an int a declared one, None streams the body
    chunked, False sends neither."""
    headers = [(b"content-type", content_type)] if content_type is not None else []
    if length is True:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
    elif length is None:
        headers.append((b"transfer-encoding", b"chunked"))
    elif length is not False:
        headers.append((b"content-length", str(length).encode()))
    app = Recorder()
    client = Client(chunks)
    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/v1/x", "headers": headers}
    await RequestLimits(app, max_body_bytes=LIMIT, max_json_depth=DEPTH)(scope, client.receive, client.send)
    return client, app


async def test_a_body_within_the_limits_reaches_the_app_as_sent() -> None:
    body = json.dumps([{"x": "y" * 1000, "z": [[1], {"a": []}]}]).encode()
    client, app = await call([body[:500], body[500:]], length=None)
    assert client.status == 200
    assert app.body == body


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    client, app = await call([b"{}"], length=LIMIT + 1)
    assert client.status == 413
    assert client.read == 0 and app.body is None
    assert client.error == f"the request body is too large: at most {LIMIT} bytes; send less per request"


async def test_a_streamed_body_is_read_only_up_to_the_limit() -> None:
    chunks = [b"[" + b" " * 999, *[b" " * 1000] * 20]  # 21,000 bytes, chunked, no length given
    client, app = await call(chunks, length=None)
    assert client.status == 413
    assert client.read == 3  # the chunk that crossed the limit is the last one read
    assert app.body is None


@pytest.mark.parametrize("content_type", [b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"])
async def test_forms_are_bounded_too(content_type: bytes) -> None:
    over, _ = await call([b"a=" + b"b" * LIMIT], content_type=content_type)
    assert over.status == 413
    streamed, _ = await call([b"a=b"] * (LIMIT // 2), content_type=content_type, length=None)
    assert streamed.status == 413
    within, app = await call([b"a=" + b"b" * 100], content_type=content_type)
    assert within.status == 200 and app.body == b"a=" + b"b" * 100


@pytest.mark.parametrize("content_type", [b"application/json", b"application/cloudevents-batch+json", None])
async def test_json_nested_deeper_than_the_limit_is_refused_naming_the_limit(content_type: bytes | None) -> None:
    client, app = await call([b"[" * (DEPTH + 1) + b"]" * (DEPTH + 1)], content_type=content_type)
    assert client.status == 400
    assert f"at most {DEPTH} levels" in client.error
    assert app.body is None
    ok, _ = await call([b"[" * DEPTH + b"]" * DEPTH], content_type=content_type)
    assert ok.status == 200


async def test_json_that_is_not_utf8_is_refused() -> None:
    client, app = await call([b'{"area": "N\xf8rrebro"}'], content_type=b"application/cloudevents+json")
    assert client.status == 400
    assert client.error == "the request body is not valid UTF-8 (byte 11); send JSON encoded as UTF-8"
    assert app.body is None


async def test_a_request_without_a_body_passes_untouched() -> None:
    client, app = await call([], method="GET", content_type=None, length=False)
    assert client.status == 200 and app.body == b""


async def test_a_client_that_disconnects_gets_no_answer() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"[1,", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []
    app = Recorder()

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"transfer-encoding", b"chunked")]}
    await RequestLimits(app, max_body_bytes=LIMIT, max_json_depth=DEPTH)(scope, receive, send)
    assert sent == [] and app.body is None


@pytest.mark.parametrize(
    ("document", "limit", "deeper"),
    [
        (b"[[1]]", 1, True),
        (b"[[1]]", 2, False),
        (b'{"a": [{"b": {}}]}', 3, True),
        (b'{"a": [{"b": {}}]}', 4, False),
        (b'["[[[[[[", {"a": "]]]]"}]', 2, False),  # brackets inside strings do not count
        (b'["\\"[[[[", [1]]', 2, False),  # nor after an escaped quote
        (b'["\\\\", [[1]]]', 2, True),  # an escaped backslash ends no string
        (json.dumps([[[[]]]] * 50).encode(), 4, False),  # many brackets, shallow
        (json.dumps([[[[]]]] * 50).encode(), 3, True),
        (b"]]]]" + b"[" * 40, 32, True),  # not JSON, but deep all the same
        (b"[" * 100_000 + b"]" * 100_000, 32, True),
    ],
)
def test_depth_scan(document: bytes, limit: int, deeper: bool) -> None:
    assert too_deep(document, limit) is deeper
