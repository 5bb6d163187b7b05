"""The FastAPI app factory shared by the services: lifespan (runtime start/stop, background
tasks), health, readiness and metrics (shared/observability.py), JSON error bodies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import heap, responses
from shared.errors import DomainError
from shared.limits import RequestLimits
from shared.logs import configure_logging
from shared.observability import CONTENT_TYPE as METRICS_CONTENT_TYPE
from shared.observability import CountRequests, Readiness, RequestCounts, families, observe, render
from shared.proxies import TrustedProxies
from shared.runtime import Runtime

log = logging.getLogger("vejviser.app")

# A long-running job of a service (a timer loop, a delivery worker, demo seeding): started
# after the runtime, handed an event that is set when the service stops.
BackgroundJob = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class Background:
    """The service's background jobs, started together and stopped together: each is asked to
    stop (the event), given `grace` seconds to finish, then cancelled."""

    def __init__(self, jobs: Sequence[tuple[str, BackgroundJob]], *, grace: float = 10.0) -> None:
        self.jobs = list(jobs)
        self.grace = grace
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.stop.clear()
        self.tasks = [asyncio.create_task(self._run(name, job), name=name) for name, job in self.jobs]

    async def _run(self, name: str, job: BackgroundJob) -> None:
        try:
            await job(self.stop)
        except asyncio.CancelledError:
            raise
        except Exception:  # one job failing must not take the service's API down with it
            log.exception("background job %s failed", name)

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=self.grace)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.tasks = []


class Health(BaseModel):
    status: Literal["ok"]
    service: str


def error_body(status: int, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"status": status, "message": message}}
    if details:
        body["error"]["details"] = details
    return body


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        details.append({"field": ".".join(loc) or "body", "message": message})
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.message, exc.details or None), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _field_errors(exc)
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}"
        return JSONResponse(error_body(422, message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )


def create_app(
    runtime: Runtime,
    *,
    title: str,
    description: str = "",
    routers: Sequence[APIRouter] = (),
    on_start: Sequence[Callable[[], Awaitable[None]]] = (),
    background: Sequence[tuple[str, BackgroundJob]] = (),
    start_runtime: bool = True,
) -> FastAPI:
    """The service's app. `on_start` hooks run once the runtime is up (schema, indexes);
    `background` jobs run from then until shutdown, when they are stopped first."""
    settings = runtime.settings
    jobs = Background(background)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service, settings.log_level)
        if start_runtime:
            await runtime.start()
        else:
            await asyncio.to_thread(runtime.db.create_schema, runtime.metadata)  # migrates: shared/migrations.py
        for hook in on_start:
            await hook()
        heap.settle()  # what start-up made lives as long as the process: shared/heap.py
        jobs.start()
        try:
            yield
        finally:
            await jobs.close()
            if start_runtime:
                await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    # Built on first request, over every route included by then: each declares the statuses
    # it answers with the error body, and who may call it (shared/responses.py).
    setattr(app, "openapi", lambda: responses.openapi(app))  # noqa: B010 (mypy refuses assigning a method)
    app.state.settings = settings
    app.state.trusted_proxies = TrustedProxies(settings.trusted_proxies)
    app.state.runtime = runtime
    app.state.background = jobs
    install_error_handlers(app)
    # Bodies are bounded before any route reads them (413 / 400, shared/limits.py).
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes, max_json_depth=settings.max_json_depth)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> Health:
        return Health(status="ok", service=settings.service)

    # One count of requests per app, not a process-wide registry: tests build many apps in
    # one process.
    requests = RequestCounts()
    app.add_middleware(CountRequests, counts=requests)

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Database and NATS are reachable and the outbox flows; the backlog, lag and DLQ figures",
        response_model=Readiness,
        responses={
            503: {
                "model": Readiness,
                "description": "The database or NATS is unreachable, or the oldest unsent outbox row is too old",
            }
        },
    )
    async def readyz() -> JSONResponse:
        # A service that is not on the bus (start_runtime=False) is ready when its database is.
        observation = await observe(runtime, on_bus=start_runtime)
        body = observation.readiness()
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if observation.ready else 503)

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics (text format 0.0.4; for the internal network, no authentication)",
        response_class=PlainTextResponse,
    )
    async def metrics() -> PlainTextResponse:
        observation = await observe(runtime, on_bus=start_runtime)
        return PlainTextResponse(render(families(observation, requests)), media_type=METRICS_CONTENT_TYPE)

    for router in routers:
        app.include_router(router)
    return app
