"""Response headers every answer of the web gets: a Content-Security-Policy without
'unsafe-inline' (no inline scripts or styles anywhere), the usual hardening headers, and
cache lifetimes for the static files (vendored files are addressed by version)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
VENDOR_CACHE = "public, max-age=31536000, immutable"
# Our own CSS/JS change with the code: the browser revalidates them (ETag) on each load.
STATIC_CACHE = "no-cache"
# Pages carry personal data and CSRF tokens: never kept in a shared or back/forward cache.
PAGE_CACHE = "no-store"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/static/vendor/"):
            cache = VENDOR_CACHE
        elif path.startswith("/static/"):
            cache = STATIC_CACHE
        else:
            cache = PAGE_CACHE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if message["status"] < 400 or cache == PAGE_CACHE:
                    headers.setdefault("Cache-Control", cache)
            await send(message)

        await self.app(scope, receive, send_with_headers)
