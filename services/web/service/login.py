"""Logging in with OpenID Connect: authorization code with PKCE against the configured
issuer (found through its discovery document), the ID token's RS256 signature checked against
the issuer's JWKS, and its issuer, audience, expiry and nonce checked; then the user's role and
communities are read from the configured claims."""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from services.web import store
from services.web.domain import WebUser
from services.web.settings import WebSettings
from shared.principal import Role
from shared.runtime import Runtime
from shared.uow import UnitOfWork

with warnings.catch_warnings():
    # authlib nudges its httpx users towards httpx2; the project (and FastAPI's tests) use httpx.
    # (Its deprecation module installs an "always" filter when first imported, hence first.)
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger("vejviser.web.login")

# When a user has several roles, the broadest is the one they work in.
ROLE_ORDER = (
    Role.admin,
    Role.guide,
    Role.professional,
    Role.ambassador,
    Role.community_contact,
    Role.analyst,
    Role.dpo,
)
HTTP_TIMEOUT = 10.0


class LoginFailed(Exception):
    """The login could not be completed; the message is for the person (Danish)."""


def safe_next(path: str | None) -> str:
    """Only a path on this site is a place to return to (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def user_from_claims(claims: Mapping[str, Any], settings: WebSettings) -> WebUser:
    """The person the verified ID token describes, with the broadest Vejviser role it carries."""
    raw = claims.get(settings.oidc_role_claim) or []
    values = [raw] if isinstance(raw, str) else [str(value) for value in raw]
    roles = set()
    for value in values:
        mapped = settings.oidc_role_map.get(value, value)
        if mapped in Role.__members__:
            roles.add(Role(mapped))
    role = next((role for role in ROLE_ORDER if role in roles), None)
    if role is None:
        raise LoginFailed("Din bruger har ingen rolle i Vejviser. Kontakt din administrator for at få adgang.")
    communities = claims.get(settings.oidc_community_claim) or []
    if isinstance(communities, str):
        communities = [communities]
    name = str(claims.get(settings.oidc_name_claim) or "")
    return WebUser(str(claims["sub"]), role, name, tuple(str(c) for c in communities))


@dataclass(frozen=True)
class Started:
    url: str
    state: str


class OidcLogin:
    def __init__(self, runtime: Runtime, settings: WebSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.redirect_uri = settings.public_base_url.rstrip("/") + "/login/callback"
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=self.settings.oidc_client_secret,
            scope=self.settings.oidc_scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            response = await client.get(url)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            issuer = self.settings.oidc_issuer.rstrip("/")
            metadata = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            if metadata.get("issuer", "").rstrip("/") != issuer:
                raise LoginFailed("Identitetsudbyderen svarede med en anden udsteder end den konfigurerede.")
            self._metadata = metadata
        return self._metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self.metadata()
            jwks = await self._get_json(metadata["jwks_uri"])
            self._keys = KeySet.import_key_set({"keys": list(jwks.get("keys", []))})
        return self._keys

    async def begin(self, next_path: str) -> Started:
        """The address of the identity provider's login page; what the callback needs is
        kept in the database under the request's state."""
        metadata = await self.metadata()
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
            )

        def save(uow: UnitOfWork) -> None:
            attempt = store.LoginAttempt(
                state=state, nonce=nonce, code_verifier=verifier, next_path=safe_next(next_path), created_at=uow.now()
            )
            uow.session.add(attempt)

        self.runtime.write(save)
        return Started(url, state)

    async def finish(self, code: str, state: str) -> tuple[WebUser, str]:
        """The logged-in user and where they were going, from the provider's callback."""
        attempt = self.runtime.write(lambda uow: store.take_login_attempt(uow.session, state))
        if attempt is None:
            raise LoginFailed("Login-forsøget er udløbet eller allerede brugt. Prøv at logge ind igen.")
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=attempt.code_verifier
                )
        except Exception as exc:  # authlib raises its own OAuth errors and httpx's
            log.warning("token exchange failed: %s", type(exc).__name__)
            raise LoginFailed("Identitetsudbyderen godkendte ikke login. Prøv igen.") from None
        claims = await self.verified_claims(str(token.get("id_token", "")), attempt.nonce)
        return user_from_claims(claims, self.settings), attempt.next_path

    async def verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        registry = JWTClaimsRegistry(
            iss={"essential": True, "value": (await self.metadata())["issuer"]},
            aud={"essential": True, "value": self.settings.oidc_client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
            exp={"essential": True},
        )
        for refresh in (False, True):  # a key we do not know yet may be a rotated one
            try:
                decoded = jwt.decode(id_token, await self.keys(refresh=refresh), algorithms=["RS256"])
                registry.validate(decoded.claims)
                return decoded.claims
            except JoseError as exc:
                log.warning("ID token refused: %s", type(exc).__name__)
                continue
        raise LoginFailed("Login kunne ikke bekræftes. Prøv igen.")
