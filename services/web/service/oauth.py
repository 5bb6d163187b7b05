"""Tokens for municipal systems: OAuth2 client credentials (RFC 6749 §4.4).

An administrator registers a system (`python -m services.web clients add`); it gets a client
id and a secret, shown once. The system asks `POST /oauth/token` for a token, which the web
client signs as the issuer of every Vejviser token: role `municipal_system`, `sub` its client
id, `aud` the services it asked for (all it may call when it names none), living at most
5 minutes. A revoked client gets no new token from that moment; a token it already has dies
with its lifetime (the services check signatures, not the web's database).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote_plus

from sqlalchemy.orm import Session

from services.web import store
from services.web.settings import WebSettings
from shared.principal import Role
from shared.runtime import Runtime
from shared.settings import TOKEN_AUDIENCES
from shared.tokens import Issuer
from shared.uow import UnitOfWork

# The services a system's token may name.
AUDIENCES = TOKEN_AUDIENCES
# scrypt at 2^15 × 8: about 32 MiB and tens of milliseconds a check, so a leaked table's
# hashes cannot be tried fast; the secrets are 256 random bits anyway.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_MAXMEM = 64 * 1024 * 1024
# Checked for an unknown client id too, so the answer takes as long as for a known one.
_UNKNOWN = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, maxmem=_MAXMEM, dklen=32, **_SCRYPT)
    encode = base64.urlsafe_b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${encode(salt).decode()}${encode(digest).decode()}"


def secret_matches(secret: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))
        salt_bytes = base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))
        found = hashlib.scrypt(secret.encode(), salt=salt_bytes, n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM, dklen=32)
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(found, expected)


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """The client id and secret of an `Authorization: Basic` header (RFC 6749 §2.3.1: each
    form-urlencoded before joining), or None when the header is not Basic."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    audiences: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def _client(row: store.OAuthClient) -> Client:
    return Client(row.client_id, row.name, tuple(row.audiences), row.created_at, row.revoked_at)


class OAuthFailure(Exception):
    """An error answer of the token endpoint (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def requested_audiences(audience: str | None, scope: str | None) -> tuple[str, ...]:
    """The services named by `audience` and `scope` (space-separated service names)."""
    named = [*(audience or "").split(), *(scope or "").split()]
    unknown = sorted({name for name in named if name not in AUDIENCES})
    if unknown:
        raise OAuthFailure(
            "invalid_scope" if scope else "invalid_target",
            f"unknown service {unknown[0]!r}; a token may name: {', '.join(AUDIENCES)}",
        )
    return tuple(dict.fromkeys(named))


class ClientCredentials:
    """The registered clients and the tokens they get."""

    def __init__(self, runtime: Runtime, settings: WebSettings, issuer: Issuer) -> None:
        self.runtime, self.issuer = runtime, issuer
        self.lifetime = timedelta(seconds=settings.client_token_seconds)

    # ------------------------------------------------------------------ administration

    def add(self, name: str, audiences: tuple[str, ...] = AUDIENCES) -> tuple[Client, str]:
        """Register a system: the client and its secret (not kept: only its hash is)."""
        if not name.strip():
            raise ValueError("a client needs a name (the system it is, e.g. 'Jobcenter KMD Momentum')")
        wrong = sorted(set(audiences) - set(AUDIENCES))
        if wrong or not audiences:
            raise ValueError(f"a client may call some of: {', '.join(AUDIENCES)} (not {', '.join(wrong) or 'none'})")
        client_id = f"system-{secrets.token_hex(8)}"
        secret = secrets.token_urlsafe(32)

        def save(uow: UnitOfWork) -> Client:
            row = store.OAuthClient(
                client_id=client_id,
                name=name.strip(),
                secret_hash=hash_secret(secret),
                audiences=list(audiences),
                created_at=uow.now(),
                revoked_at=None,
            )
            uow.session.add(row)
            return _client(row)

        return self.runtime.write(save), secret

    def clients(self) -> list[Client]:
        return self.runtime.read(lambda db: [_client(row) for row in store.oauth_clients(db)])

    def revoke(self, client_id: str) -> Client | None:
        """Revoke a client (from now on it gets no token); None when there is no such client."""

        def revoke(uow: UnitOfWork) -> Client | None:
            row = store.oauth_client(uow.session, client_id)
            if row is not None and row.revoked_at is None:
                row.revoked_at = uow.now()
            return None if row is None else _client(row)

        return self.runtime.write(revoke)

    # ------------------------------------------------------------------ the token endpoint

    def token(
        self,
        *,
        grant_type: str | None,
        credentials: tuple[str, str] | None,
        audience: str | None = None,
        scope: str | None = None,
    ) -> IssuedToken:
        if not grant_type:
            raise OAuthFailure("invalid_request", "grant_type is missing; send grant_type=client_credentials")
        if grant_type != "client_credentials":
            raise OAuthFailure("unsupported_grant_type", f"grant_type {grant_type!r}: only client_credentials")
        if credentials is None or not credentials[0]:
            raise OAuthFailure(
                "invalid_client",
                "no client credentials: send client_id and client_secret, or HTTP Basic authentication",
                401,
            )
        client = self._authenticated(*credentials)
        wanted = requested_audiences(audience, scope) or client.audiences
        refused = [name for name in wanted if name not in client.audiences]
        if refused:
            raise OAuthFailure("invalid_scope", f"this client may not call {refused[0]!r}")
        token = self.issuer.mint(
            audience=list(wanted),
            actor_id=client.client_id,
            role=str(Role.municipal_system),
            ttl=self.lifetime,
            extra={"client_id": client.client_id},
        )
        return IssuedToken(token, int(self.lifetime.total_seconds()))

    def _authenticated(self, client_id: str, secret: str) -> Client:
        def find(db: Session) -> tuple[Client, str] | None:
            row = store.oauth_client(db, client_id)
            return None if row is None else (_client(row), row.secret_hash)

        found = self.runtime.read(find)
        matches = secret_matches(secret, found[1] if found is not None else _UNKNOWN)
        if found is None or not matches:
            raise OAuthFailure("invalid_client", "unknown client, or a wrong secret", 401)
        client = found[0]
        if client.revoked_at is not None:
            raise OAuthFailure("invalid_client", "this client has been revoked: ask an administrator", 401)
        return client
