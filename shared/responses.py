"""The answers a route can give besides its own, declared in every OpenAPI document.

Every error of an API has one body (`shared.app.error_body`), the `ErrorBody` model here. The
statuses a route answers with it are derived from the route in one place (`document`), not
written on each route:

- 401 where it needs a bearer token, 403 where `require(...)` lets only some roles through;
- 404 where the path names a thing;
- 400, 413 and 422 where it takes a body (the request limits of shared/limits.py), 422
  where it takes parameters;
- whatever a dependency says it answers (`answers(429)` on a rate limit, `answers(403)` on a
  check of its own).

The specific ones (409, 410) are declared on the routes that raise them: `responses=errors(409)`.

Each operation also says who may call it, so the access matrix (shared/access_matrix.py) is
generated from the documents: `x-authentication` (`bearer`, `session` or `none`) and `x-roles`
(the roles let through; every role where any token will do).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from shared.principal import Role

Authentication = Literal["bearer", "session", "none"]
F = TypeVar("F", bound=Callable[..., Any])

ERROR_SCHEMA = "ErrorBody"
_REF = f"#/components/schemas/{ERROR_SCHEMA}"
ALL_ROLES = frozenset(Role)

DESCRIPTIONS = {
    303: "Not logged in: to the login page",
    400: "The body is not UTF-8 JSON, nests too deeply, or is otherwise malformed",
    401: "No bearer token, or one that is not valid (expired, wrongly signed)",
    403: "The caller's role (or their own relation to the thing) does not allow this",
    404: "Nothing by that id (or not visible to the caller)",
    409: "Conflicts with the current state (exists already, or the step does not fit the state)",
    410: "Gone: the citizen has been erased",
    413: "The body is larger than the service takes (MAX_BODY_BYTES)",
    422: "A parameter or the body is invalid; `details` names the field",
    429: "Too many requests; `Retry-After` says when to try again",
    503: "A service this one depends on does not answer",
}


class ErrorDetail(BaseModel):
    status: int = Field(description="the HTTP status, repeated")
    message: str = Field(description="what is wrong, for a person to act on")
    # A validation error lists its fields; a domain error names what it is about.
    details: list[dict[str, str]] | dict[str, object] | None = Field(
        default=None, description="the fields at fault (validation), or what the error is about"
    )


class ErrorBody(BaseModel):
    """The body of every error answer of the APIs."""

    error: ErrorDetail


@dataclass(frozen=True)
class Answers:
    """What a dependency adds to a route: the statuses it may answer, and who it lets in."""

    statuses: frozenset[int] = frozenset()
    authentication: Authentication | None = None
    roles: frozenset[Role] | None = None


_MARK = "__vejviser_answers__"


def answers(*statuses: int, authentication: Authentication | None = None, roles: Any = None) -> Callable[[F], F]:
    """Mark a dependency with the statuses it answers (and, for a login check, who it lets in)."""

    def mark(call: F) -> F:
        setattr(call, _MARK, Answers(frozenset(statuses), authentication, frozenset(roles) if roles else None))
        return call

    return mark


def errors(*statuses: int, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error body under each status."""
    return {status: _response(status, html) for status in statuses}


def _response(status: int, html: bool) -> dict[str, Any]:
    description = DESCRIPTIONS.get(status, "Error")
    if status == 303:
        return {"description": description, "headers": {"Location": {"schema": {"type": "string"}}}}
    if html:
        return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}
    return {"description": description, "content": {"application/json": {"schema": {"$ref": _REF}}}}


def _bearer_roles(call: Callable[..., Any]) -> tuple[bool, frozenset[Role] | None]:
    """Whether `call` is shared/auth.py's token check, and the roles its `require` lets in."""
    from shared import auth

    if call is auth.current_principal:
        return True, None
    if getattr(call, "__qualname__", "") == "require.<locals>.dependency" and call.__module__ == auth.__name__:
        roles = getattr(call, "roles", None) or inspect.getclosurevars(call).nonlocals.get("roles", ())
        return True, frozenset(Role(role) for role in roles)
    return False, None


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


@dataclass(frozen=True)
class RouteAccess:
    authentication: Authentication
    roles: frozenset[Role]
    statuses: frozenset[int]


def access(route: Any) -> RouteAccess:
    """Who may call the route and what, besides its own answer, it can answer. `route` is an
    APIRoute, or FastAPI's view of one inside an included router (its dependencies merged)."""
    authentication: Authentication = "none"
    roles: frozenset[Role] = ALL_ROLES
    statuses: set[int] = set()
    for call in _calls(route.dependant):
        bearer, allowed = _bearer_roles(call)
        if bearer:
            authentication = "bearer"
            statuses.add(401)
        if allowed is not None:
            roles &= allowed
        marked: Answers | None = getattr(call, _MARK, None)
        if marked is not None:
            statuses |= marked.statuses
            authentication = marked.authentication or authentication
            roles &= marked.roles or ALL_ROLES
    if authentication != "none":
        # Refused for the role, or for the caller's relation to the thing (not their referral,
        # not their community): the services check both.
        statuses.add(403)
    dependant: Dependant = route.dependant
    if dependant.path_params:
        statuses |= {404, 422}
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        statuses |= {400, 413, 422}
    if dependant.query_params or dependant.header_params or dependant.cookie_params:
        statuses.add(422)
    return RouteAccess(authentication, roles, frozenset(statuses))


def api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's documented API routes, those of included routers as FastAPI sees them."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def declare(app: FastAPI, schema: dict[str, Any]) -> None:
    """Write into `schema` (the app's OpenAPI document) what `access` derives of each route;
    a status the route declares itself is kept as it is."""
    # The web answers with Danish HTML pages, and with the 400 page where an API says 422.
    html = bool(getattr(app.state, "html_errors", False))
    for route in api_routes(app):
        found = access(route)
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            answers = operation.setdefault("responses", {})
            own = {str(status) for status in route.responses}
            for status in sorted(found.statuses):
                if html and status == 422:
                    status = 400
                if str(status) not in own:
                    answers[str(status)] = _response(status, html)
            if html:
                answers.pop("422", None)
            operation["x-authentication"] = found.authentication
            if found.authentication != "none":
                operation["x-roles"] = sorted(role.value for role in found.roles)


def openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with every status declared (built once, as FastAPI does)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        declare(app, schema)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs", {}))
        schemas[ERROR_SCHEMA] = error_schema
        # FastAPI's own validation body is never answered: the error handlers answer ErrorBody.
        for unused in ("HTTPValidationError", "ValidationError"):
            if f'/{unused}"' not in json.dumps(schema):
                schemas.pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema
