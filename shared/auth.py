"""Bearer tokens with roles (HS256 JWT signed with TOKEN_SECRET).

A token says who the caller is (`sub`, an actor id), their role, and for a community contact
which communities they receive for. Services authorise with `require(...)` dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import DomainError, Forbidden
from shared.principal import Principal, Role

__all__ = ["CurrentPrincipal", "Principal", "Role", "Unauthorized", "decode_token", "issue_token", "require"]


class Unauthorized(DomainError):
    status = 401


def issue_token(
    secret: str,
    *,
    actor_id: str,
    role: Role | str,
    communities: list[str] | None = None,
    ttl: timedelta = timedelta(days=30),
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": actor_id,
        "role": str(Role(role)),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if communities:
        claims["communities"] = communities
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "role", "exp"]})
        return Principal(
            actor_id=str(claims["sub"]),
            role=Role(claims["role"]),
            communities=tuple(claims.get("communities", ())),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; ask an administrator for a new one") from None
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthorized("the token is not valid for Vejviser") from None


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    secret: str = request.app.state.settings.token_secret
    return decode_token(secret, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only the given roles through (403 names the allowed roles)."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"role '{principal.role.value}' may not do this; allowed roles: {allowed}")
        return principal

    return dependency
