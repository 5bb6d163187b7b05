"""Run one service under uvicorn: `vejviser serve <name>` or `python -m services.<name>`."""

from __future__ import annotations

import importlib

import uvicorn

from shared.settings import SERVICES, Settings


def serve(name: str, *, host: str | None = None, port: int | None = None) -> None:
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; choose one of {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{name}.main")
    app = module.build()  # the service's own settings, from the environment
    settings: Settings = app.state.settings
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,  # our JSON logging, set up in the app's lifespan
        access_log=False,
        # X-Forwarded-For is read by shared/proxies.py, from TRUSTED_PROXIES only; uvicorn's own
        # handling would trust 127.0.0.1 (FORWARDED_ALLOW_IPS) and rewrite the peer before us.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
