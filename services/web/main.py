"""Composition root of the web client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from services.web.api import ROUTERS
from services.web.api.errors import install_page_errors
from services.web.api.pages import ROUTERS as PAGE_ROUTERS
from services.web.api.templating import make_templates
from services.web.devidp import dev_idp_router
from services.web.security import SecurityHeaders
from services.web.service import Pages
from services.web.service.login import OidcLogin
from services.web.service.magic_link import MagicLinks
from services.web.service.oauth import ClientCredentials
from services.web.service.sessions import Sessions
from services.web.settings import WebSettings
from services.web.store import Base
from shared.app import create_app
from shared.runtime import Runtime
from shared.settings import Settings
from shared.tokens import Issuer

STATIC = Path(__file__).resolve().parent / "static"
SWEEP_SECONDS = 300.0


def build(settings: Settings | None = None) -> FastAPI:
    config = WebSettings.for_service(settings)
    # httpx logs every request's URL at INFO; the pages' calls carry searches and citizen ids.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    runtime = Runtime(config, Base.metadata)
    sessions = Sessions(runtime, config)
    # The web client signs the tokens of its own calls and of municipal systems (shared/tokens.py).
    issuer = Issuer.from_settings(config)
    pages = Pages(runtime, config, issuer)
    templates = make_templates()
    magic_links = MagicLinks(
        runtime, config, pages.backends, mail_html=templates.get_template("login_mail_message.html").render
    )

    async def sweep_sessions(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(sessions.sweep)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=SWEEP_SECONDS)

    async def close_backends(stop: asyncio.Event) -> None:
        # The pages' backend clients are made here once and closed here at shutdown only
        # (the stop signal is create_app's shutdown; it has no other stop hook).
        await stop.wait()
        await asyncio.to_thread(magic_links.close)  # a login mail on its way is finished first
        pages.close()

    app = create_app(
        runtime,
        title="Vejviser web",
        description="Danish pages for guides, professionals and ambassadors over the Vejviser APIs.",
        routers=[*ROUTERS, *PAGE_ROUTERS],
        background=[("session-sweep", sweep_sessions), ("backend-clients", close_backends)],
        start_runtime=False,
    )
    app.state.sessions = sessions
    app.state.pages = pages
    app.state.oidc = OidcLogin(runtime, config)
    app.state.magic_links = magic_links
    app.state.issuer = issuer
    app.state.client_credentials = ClientCredentials(runtime, config, issuer)
    if config.dev_idp:
        app.include_router(dev_idp_router(config))
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_page_errors(app)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(SecurityHeaders)
    return app
