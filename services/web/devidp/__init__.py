"""The development identity provider (`make run` only): a small OpenID Connect provider with a
discovery document, a JWKS and RS256-signed ID tokens, whose login page is a persona picker.

The web logs in against it exactly as it does against the municipality's provider (same
code, over HTTP); only its users are made up. The app mounts it only in development, and the
settings refuse it as the issuer anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.web.api.deps import page_context
from services.web.devidp.personas import BY_KEY, PERSONAS, Persona
from services.web.service.oauth import basic_credentials
from services.web.settings import DEV_IDP_PATH, WebSettings

CODE_SECONDS = 60
TOKEN_SECONDS = 300


@dataclass(frozen=True)
class Grant:
    """An authorization code waiting to be exchanged at the token endpoint."""

    persona: Persona
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    expires: float


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def oauth_error(code: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


class DevIdp:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.issuer = settings.public_base_url.rstrip("/") + DEV_IDP_PATH
        # A fresh key each start: ID tokens live only for the moment of a login.
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})
        self.grants: dict[str, Grant] = {}

    def discovery(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "name", "roles", "communities", "nonce"],
        }

    def client_known(self, client_id: str, redirect_uri: str) -> bool:
        # Only this app's own callback: the dev IdP is not an open redirector.
        return client_id == self.settings.oidc_client_id and redirect_uri == (
            self.settings.public_base_url.rstrip("/") + "/login/callback"
        )

    def grant(self, persona: Persona, client_id: str, redirect_uri: str, challenge: str, nonce: str) -> str:
        now = time.time()
        self.grants = {code: grant for code, grant in self.grants.items() if grant.expires > now}
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(persona, client_id, redirect_uri, challenge, nonce, now + CODE_SECONDS)
        return code

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        persona = grant.persona
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": persona.actor_id,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "nonce": grant.nonce,
            "name": persona.name,
            self.settings.oidc_role_claim: [str(persona.role)],
            self.settings.oidc_community_claim: list(persona.communities),
        }
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)

    def client_authenticated(self, request: Request, client_id: str, client_secret: str) -> str | None:
        """The client id if its credentials are right (HTTP Basic or form fields)."""
        basic = basic_credentials(request.headers.get("authorization", ""))
        if basic is not None:
            client_id, client_secret = basic
        secret_ok = hmac.compare_digest(client_secret, self.settings.oidc_client_secret)
        return client_id if client_id == self.settings.oidc_client_id and secret_ok else None


def dev_idp_router(settings: WebSettings) -> APIRouter:
    idp = DevIdp(settings)
    router = APIRouter(prefix=DEV_IDP_PATH, tags=["development identity provider"], include_in_schema=False)

    @router.get("/.well-known/openid-configuration")
    def discovery() -> JSONResponse:
        return JSONResponse(idp.discovery())

    @router.get("/jwks")
    def jwks() -> JSONResponse:
        return JSONResponse({"keys": [idp.key.as_dict(private=False)]})

    @router.get("/authorize", response_class=HTMLResponse)
    def authorize(
        request: Request,
        client_id: str = "",
        redirect_uri: str = "",
        response_type: str = "",
        state: str = "",
        nonce: str = "",
        code_challenge: str = "",
        code_challenge_method: str = "",
        scope: Annotated[str, Query()] = "",
    ) -> Response:
        problem = ""
        if not idp.client_known(client_id, redirect_uri):
            problem = "Ukendt klient eller tilbagesendelsesadresse."
        elif response_type != "code" or "openid" not in scope.split():
            problem = "Kun OpenID Connect med autorisationskode understøttes."
        elif code_challenge_method != "S256" or not code_challenge or not nonce or not state:
            problem = "Login-forespørgslen mangler PKCE (S256), nonce eller state."
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
        }
        return page_context(request).render(
            "login_personas.html", status=400 if problem else 200, problem=problem, personas=PERSONAS, params=params
        )

    @router.post("/authorize")
    def choose(
        persona: Annotated[str, Form()],
        client_id: Annotated[str, Form()],
        redirect_uri: Annotated[str, Form()],
        state: Annotated[str, Form()],
        nonce: Annotated[str, Form()],
        code_challenge: Annotated[str, Form()],
    ) -> Response:
        chosen = BY_KEY.get(persona)
        if chosen is None or not idp.client_known(client_id, redirect_uri):
            return oauth_error("invalid_request", "unknown persona or client")
        code = idp.grant(chosen, client_id, redirect_uri, code_challenge, nonce)
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303)

    @router.post("/token")
    def token(
        request: Request,
        grant_type: Annotated[str, Form()],
        code: Annotated[str, Form()],
        redirect_uri: Annotated[str, Form()],
        code_verifier: Annotated[str, Form()],
        client_id: Annotated[str, Form()] = "",
        client_secret: Annotated[str, Form()] = "",
    ) -> JSONResponse:
        client = idp.client_authenticated(request, client_id, client_secret)
        if client is None:
            return oauth_error("invalid_client", "client authentication failed", 401)
        grant = idp.grants.pop(code, None)
        if grant_type != "authorization_code" or grant is None or grant.expires < time.time():
            return oauth_error("invalid_grant", "unknown or expired code")
        if grant.client_id != client or grant.redirect_uri != redirect_uri:
            return oauth_error("invalid_grant", "the code was issued to another client or redirect URI")
        if not hmac.compare_digest(s256(code_verifier), grant.code_challenge):
            return oauth_error("invalid_grant", "PKCE verification failed")
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": idp.id_token(grant),
            },
            headers={"Cache-Control": "no-store"},
        )

    return router
