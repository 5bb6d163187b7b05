"""Request limits of every HTTP API, as one pure ASGI middleware (create_app installs it).

- A body larger than `max_body_bytes` gets 413, whether its Content-Length says so (answered
  before a byte of it is read) or it streams past the limit (chunked): no more than the limit
  is ever held in memory.
- A JSON body (`application/json`, `application/*+json`, or no content type, which FastAPI
  reads as JSON) must be UTF-8 (else 400) and nested no deeper than `max_json_depth` (else
  400): a deep document would exhaust the parser's stack before any model sees it.

Every API request passes through here, so the common case is kept cheap: a request without a
body is passed on untouched, a form or upload of a declared size is not buffered, and the
depth scan stops at counting brackets when there are too few of them to go deep.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALL_BUT_MARKS = bytes(sorted(set(range(256)) - set(b'[]{}"')))
_OPENERS = frozenset(b"[{")
_RUN = re.compile(rb"[\[{]+|[\]}]+")


def too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON in `body` nests arrays and objects deeper than `limit`.

    No parse and no recursion, only C-speed byte operations: the brackets outside strings are
    kept and walked a run of openers or closers at a time (a 100,000-deep document is
    decided at its first run).
    """
    if body.count(b"[") + body.count(b"{") <= limit:  # too few brackets to go deeper
        return False
    # Without its escaped backslashes and quotes every quote opens or closes a string, so
    # every other piece between quotes is outside the strings.
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = body.translate(None, _ALL_BUT_MARKS)
    brackets = b"".join(marks.split(b'"')[::2])
    depth = 0
    for run in _RUN.finditer(brackets):
        width = run.end() - run.start()
        if brackets[run.start()] in _OPENERS:
            depth += width
            if depth > limit:
                return True
        else:
            depth = max(depth - width, 0)  # more closers than openers: not JSON, the parser says so
    return False


def _is_json(content_type: bytes) -> bool:
    kind = content_type.split(b";", 1)[0].strip().lower()
    return not kind or kind == b"application/json" or kind.endswith(b"+json")


class _TooLarge(Exception):
    pass


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: int | None = None
        chunked = False
        content_type = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"content-type":
                content_type = value
        if length is not None and length > self.max_body_bytes:
            await self._refuse(send, 413, self._too_large())
            return
        has_body = chunked or bool(length) or (length is None and scope["method"] not in ("GET", "HEAD", "OPTIONS"))
        json_body = _is_json(content_type)
        if not has_body or (length is not None and not json_body):
            # No body, or one of a declared size within the limit that is not JSON (a form,
            # an upload): the server reads no more than the declared size.
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except _TooLarge:
            await self._refuse(send, 413, self._too_large())
            return
        if body is None:
            return  # the client went away
        if json_body and body:
            problem = self._json_problem(body)
            if problem:
                await self._refuse(send, 400, problem)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The body (None when the client went away); _TooLarge at the chunk that would take
        it past the limit, which is not kept."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _json_problem(self, body: bytes) -> str | None:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"the request body is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8"
        if too_deep(body, self.max_json_depth):
            return (
                f"the JSON is nested too deeply: at most {self.max_json_depth} levels of arrays and objects "
                "inside one another"
            )
        return None

    def _too_large(self) -> str:
        return f"the request body is too large: at most {self.max_body_bytes} bytes; send less per request"

    @staticmethod
    async def _refuse(send: Send, status: int, message: str) -> None:
        from shared.app import error_body  # shared.app installs this middleware: imported late

        body = json.dumps(error_body(status, message)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then the connection's own messages
    (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
