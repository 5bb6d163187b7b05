"""Danish error pages instead of the JSON bodies the APIs answer with: the login redirect,
403, 404 and a general error page (nothing about the failure is shown beyond its kind)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.web.api.deps import LoginRequired, PageForbidden, page_context

log = logging.getLogger("vejviser.web")


def login_redirect(request: Request, next_path: str) -> Response:
    target = "/login?" + urlencode({"next": next_path})
    if request.headers.get("HX-Request"):
        # htmx would follow a redirect inside its fragment; it navigates the page on HX-Redirect.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status: int, message: str = "") -> Response:
    template = {403: "403.html", 404: "404.html"}.get(status, "error.html")
    return page_context(request).render(template, status=status, status_code=status, message=message)


def install_page_errors(app: FastAPI) -> None:
    # The OpenAPI document declares these pages, not the APIs' JSON bodies (shared/responses.py).
    app.state.html_errors = True
    # The pages' handlers are plain functions: an error page asks notifications for the header's
    # unread count (a blocking call of up to 1 s), so Starlette must run them in its threadpool,
    # not in the event loop every other request waits on.

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request, exc.next_path)

    @app.exception_handler(PageForbidden)
    def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return error_page(request, 403, exc.message)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error_page(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Only the fields' names are logged: their values may be personal data.
        log.info("invalid request to %s: %s", request.url.path, [e.get("loc") for e in exc.errors()])
        return error_page(request, 400)

    @app.exception_handler(Exception)
    def _crash(request: Request, exc: Exception) -> Response:
        log.error("page %s failed: %s", request.url.path, type(exc).__name__)
        return error_page(request, 500)
