"""The web client as token issuer: its public keys (`/.well-known/jwks.json`, what every
service's TOKEN_JWKS points at) and the client-credentials token endpoint of municipal
systems (`/oauth/token`, RFC 6749 §4.4; services/web/service/oauth.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.web.service.oauth import ClientCredentials, OAuthFailure, basic_credentials

router = APIRouter(tags=["tokens"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenAnswer(BaseModel):
    access_token: str = Field(description="an EdDSA-signed JWT for the services in its `aud`")
    token_type: str = Field(default="Bearer")
    expires_in: int = Field(description="seconds the token lives (at most 300)")


class OAuthError(BaseModel):
    """An error of the token endpoint, as RFC 6749 §5.2 has it."""

    error: str = Field(description="invalid_request, invalid_client, unsupported_grant_type, invalid_scope, …")
    error_description: str = Field(description="what is wrong, for a person to act on")


class KeySetAnswer(BaseModel):
    keys: list[dict[str, Any]] = Field(description="the issuer's public keys (JWK, with kid and alg)")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": OAuthError}


@router.get(
    "/.well-known/jwks.json",
    response_model=KeySetAnswer,
    summary="The public keys the services check tokens against (set TOKEN_JWKS to this URL)",
)
def jwks(request: Request) -> JSONResponse:
    # Cached briefly: a new key is published before it signs (docs/operations.md, Tokens and keys).
    return JSONResponse(request.app.state.issuer.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/oauth/token",
    response_model=TokenAnswer,
    summary="A token for a municipal system (OAuth2 client credentials, RFC 6749 §4.4)",
    responses={
        400: _error("invalid_request, unsupported_grant_type, invalid_scope or invalid_target"),
        401: _error("invalid_client: unknown, wrong secret, or revoked"),
    },
)
def token(
    request: Request,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    audience: Annotated[str | None, Form(description="space-separated services, e.g. 'referrals'")] = None,
    scope: Annotated[str | None, Form(description="space-separated services, as `audience`")] = None,
) -> JSONResponse:
    clients: ClientCredentials = request.app.state.client_credentials
    try:
        credentials = _credentials(request, client_id, client_secret)
        issued = clients.token(grant_type=grant_type, credentials=credentials, audience=audience, scope=scope)
    except OAuthFailure as failure:
        headers = dict(NO_STORE)
        if failure.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="vejviser", charset="UTF-8"'
        body = OAuthError(error=failure.error, error_description=failure.description)
        return JSONResponse(body.model_dump(), status_code=failure.status, headers=headers)
    answer = TokenAnswer(access_token=issued.access_token, expires_in=issued.expires_in)
    return JSONResponse(answer.model_dump(), headers=NO_STORE)


def _credentials(request: Request, client_id: str | None, client_secret: str | None) -> tuple[str, str] | None:
    basic = basic_credentials(request.headers.get("authorization", ""))
    if basic is not None and (client_id or client_secret):
        # RFC 6749 §2.3: a client uses one way of authenticating in a request.
        raise OAuthFailure("invalid_request", "send the client's credentials one way: HTTP Basic, or the form fields")
    if basic is None and client_id:
        return client_id, client_secret or ""
    return basic
