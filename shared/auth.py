"""Bearer tokens with roles: who the caller is, checked by every service (shared/tokens.py).

A token says who the caller is (`sub`, an actor id), their role, and for a community contact
which communities they receive for. It is signed by the issuer (the web client, or in
production the identity provider behind it) and checked against TOKEN_JWKS; it must name this
service in `aud`. Services authorise with `require(...)` dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden
from shared.principal import Principal, Role
from shared.tokens import KeySet, TokenPolicy, TokenRefused, TokenVerifier

__all__ = ["CurrentPrincipal", "Principal", "Role", "Unauthorized", "principal_of", "require", "verifier_for"]

# A refused token is a 401 whose message names the claim at fault.
Unauthorized = TokenRefused


def verifier_for(settings: Any) -> TokenVerifier:
    """The token check of the service `settings` configure (its name is the audience)."""
    policy = TokenPolicy(
        issuer=settings.token_issuer,
        audience=settings.service,
        max_lifetime_seconds=settings.token_max_lifetime_seconds,
        development=settings.development,
    )
    return TokenVerifier(KeySet(settings.token_jwks), policy)


def principal_of(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(claims["role"])
    except ValueError:
        raise Unauthorized(f"the token's 'role' {claims['role']!r} is not a Vejviser role") from None
    communities = claims.get("communities", ())
    if not isinstance(communities, list | tuple) or not all(isinstance(c, str) for c in communities):
        raise Unauthorized("the token's 'communities' must be a list of community ids")
    return Principal(actor_id=str(claims["sub"]), role=role, communities=tuple(communities))


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    state = request.app.state
    verifier: TokenVerifier | None = getattr(state, "token_verifier", None)
    if verifier is None:
        # One per app, made at its first request: its key set's cache lives as long as the app.
        verifier = state.token_verifier = verifier_for(state.settings)
    return principal_of(verifier.verify(credentials.credentials))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only the given roles through (403 names the allowed roles)."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"role '{principal.role.value}' may not do this; allowed roles: {allowed}")
        return principal

    return dependency
