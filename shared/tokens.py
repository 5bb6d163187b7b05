"""Bearer tokens no service can forge: signed with a private key only the issuer holds,
checked by every service against the issuer's public keys (a JWKS).

The web client is the issuer of the calls it makes for its logged-in people and of the
client-credentials tokens of municipal systems (`services/web/service/oauth.py`); it publishes
its public keys at `/.well-known/jwks.json`. The services read that key set from `TOKEN_JWKS`
(a URL, or a file) and take a token only when:

- it is signed with EdDSA (Ed25519) or RS256 (what an identity provider such as Entra ID
  signs with), never a shared secret (HS*), by a key whose `kid` is in the set;
- `iss` is TOKEN_ISSUER, `aud` names this service (a string, or a list holding it);
- `iat`, `exp`, `jti`, `sub` and `role` are there, `iat` is not in the future, and
  `exp - iat` is at most TOKEN_MAX_LIFETIME_SECONDS.

Development keys (`make run`'s, under var/keys/) have a `kid` starting `dev-`; outside
development the settings refuse them (shared/settings.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from shared.errors import DomainError

ALGORITHMS = ("EdDSA", "RS256")
DEV_KID_PREFIX = "dev-"
# Clocks differ a little between the issuer and the services.
LEEWAY_SECONDS = 30
# A URL key set is fetched again this often, and at most this often when a token names a kid
# it does not hold (a key just rotated in): a stream of made-up kids costs one fetch per window.
JWKS_REFRESH_SECONDS = 600.0
JWKS_UNKNOWN_KID_SECONDS = 30.0
# The shared HS256 secret of the previous releases, published in their code: refused
# everywhere a key is configured, so it cannot come back as another secret.
RETIRED_SECRETS = frozenset({"vejviser-dev-secret-not-for-production-use"})

JwkDict = dict[str, Any]
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class TokenRefused(DomainError):
    """The bearer token is not accepted; the message names the claim or header at fault."""

    status = 401


class KeysUnavailable(DomainError):
    """The key set at TOKEN_JWKS cannot be read (this service's problem, not the caller's)."""

    status = 503


# ---------------------------------------------------------------------- keys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint of a public key: a kid that names the key and nothing else."""
    members = ("crv", "kty", "x") if jwk.get("kty") == "OKP" else ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def _jwk(key: PrivateKey, *, private: bool = False) -> JwkDict:
    """The key as a JWK: its public half, or the whole private key."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return cast(JwkDict, OKPAlgorithm.to_jwk(key if private else key.public_key(), as_dict=True))
    return cast(JwkDict, RSAAlgorithm.to_jwk(key if private else key.public_key(), as_dict=True))


@dataclass(frozen=True)
class SigningKey:
    """A private key and the public JWK (with kid and alg) the issuer publishes for it."""

    kid: str
    algorithm: str
    private: PrivateKey

    @property
    def public_jwk(self) -> JwkDict:
        return {**_jwk(self.private), "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    @property
    def private_jwk(self) -> JwkDict:
        return {**_jwk(self.private, private=True), "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.private, algorithm=self.algorithm, headers={"kid": self.kid})


def _signing_key(private: object, kid: str = "") -> SigningKey:
    if isinstance(private, ed25519.Ed25519PrivateKey):
        algorithm = "EdDSA"
    elif isinstance(private, rsa.RSAPrivateKey):
        if private.key_size < 2048:
            raise ValueError(f"an RSA signing key must have at least 2048 bits (this one has {private.key_size})")
        algorithm = "RS256"
    else:
        raise ValueError("a signing key must be Ed25519 (EdDSA) or RSA (RS256)")
    return SigningKey(kid or thumbprint(_jwk(private)), algorithm, private)


def generate_signing_key(kid_prefix: str = "") -> SigningKey:
    """A new Ed25519 key whose kid is `kid_prefix` and its thumbprint."""
    private = ed25519.Ed25519PrivateKey.generate()
    return SigningKey(kid_prefix + thumbprint(_jwk(private))[:16], "EdDSA", private)


def load_signing_keys(path: Path) -> list[SigningKey]:
    """The keys of TOKEN_SIGNING_KEY_FILE: one PEM private key, one private JWK, or a JWK Set
    of private keys. The first signs; all are published (the next or the previous key of a
    rotation)."""
    what = f"TOKEN_SIGNING_KEY_FILE {path}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{what}: cannot be read ({exc.strerror})") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return [_signing_key(serialization.load_pem_private_key(data, password=None))]
        document = json.loads(data)
        jwks = document["keys"] if isinstance(document, dict) and "keys" in document else [document]
        keys = []
        for jwk in jwks:
            if "d" not in jwk:
                raise ValueError("a key has no private part ('d')")
            keys.append(_signing_key(jwt.PyJWK(jwk).key, str(jwk.get("kid", ""))))
    except (ValueError, TypeError, KeyError, jwt.PyJWKError) as exc:
        raise ValueError(f"{what}: not a PEM private key, a private JWK or a JWK Set of them ({exc})") from None
    if not keys:
        raise ValueError(f"{what}: holds no key")
    return keys


def jwks_document(keys: Sequence[SigningKey]) -> dict[str, list[JwkDict]]:
    """The public key set of `keys`, as `/.well-known/jwks.json` answers it."""
    return {"keys": [key.public_jwk for key in keys]}


def kids_of(document: Mapping[str, Any]) -> list[str]:
    return [str(jwk.get("kid", "")) for jwk in document.get("keys", []) if isinstance(jwk, Mapping)]


# ---------------------------------------------------------------------- issuing


def mint(
    key: SigningKey,
    *,
    issuer: str,
    audience: str | Sequence[str],
    actor_id: str,
    role: str,
    communities: Sequence[str] = (),
    ttl: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A token for `actor_id` in `role`, for the service(s) `audience` names."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": actor_id,
        "aud": audience if isinstance(audience, str) else list(audience),
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if communities:
        claims["communities"] = list(communities)
    return key.sign({**(extra or {}), **claims})


class Issuer:
    """Mints tokens with the first key of TOKEN_SIGNING_KEY_FILE as TOKEN_ISSUER, and publishes
    the public halves of all its keys."""

    def __init__(self, keys: Sequence[SigningKey], issuer: str) -> None:
        if not keys:
            raise ValueError("an issuer needs a signing key")
        self.keys, self.issuer = list(keys), issuer

    @classmethod
    def from_settings(cls, settings: Any) -> Issuer:
        if not settings.token_signing_key_file:
            raise ValueError("TOKEN_SIGNING_KEY_FILE is not set: this process cannot sign tokens")
        return cls(load_signing_keys(Path(settings.token_signing_key_file)), settings.token_issuer)

    def mint(
        self,
        *,
        audience: str | Sequence[str],
        actor_id: str,
        role: str,
        communities: Sequence[str] = (),
        ttl: timedelta = timedelta(minutes=5),
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        return mint(
            self.keys[0],
            issuer=self.issuer,
            audience=audience,
            actor_id=actor_id,
            role=role,
            communities=communities,
            ttl=ttl,
            extra=extra,
        )

    def jwks(self) -> dict[str, list[JwkDict]]:
        return jwks_document(self.keys)


# ---------------------------------------------------------------------- the key set


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


class KeySet:
    """The public keys of TOKEN_JWKS by kid. A file is read again when it changes; a URL is
    cached, fetched again every JWKS_REFRESH_SECONDS and, rate-limited, on an unknown kid."""

    def __init__(
        self,
        source: str,
        *,
        fetch: Callable[[str], Mapping[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self.clock = source, clock
        self._fetch = fetch or _fetch_jwks
        self._keys: dict[str, jwt.PyJWK] = {}
        self._stamp: object = None
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            if is_url(self.source):
                self._refresh_url(kid)
            else:
                self._refresh_file()
            return self._keys.get(kid)

    def _refresh_file(self) -> None:
        path = Path(self.source)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._keys, self._stamp = _parse(json.loads(path.read_bytes())), stamp
        except (OSError, ValueError) as exc:
            raise KeysUnavailable(f"TOKEN_JWKS {self.source} cannot be read as a JWK Set ({exc})") from None

    def _refresh_url(self, kid: str) -> None:
        now = self.clock()
        age = None if self._fetched_at is None else now - self._fetched_at
        due = age is None or age >= JWKS_REFRESH_SECONDS or (kid not in self._keys and age >= JWKS_UNKNOWN_KID_SECONDS)
        if not due:
            return
        self._fetched_at = now  # a failed fetch waits its turn as well: no storm on a down issuer
        try:
            self._keys = _parse(self._fetch(self.source))
        except (httpx.HTTPError, ValueError) as exc:
            if not self._keys:
                raise KeysUnavailable(f"the token issuer's keys (TOKEN_JWKS {self.source}) cannot be fetched") from exc


def _fetch_jwks(url: str) -> Mapping[str, Any]:
    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict):
        raise ValueError("not a JWK Set")
    return document


def _parse(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for jwk in document.get("keys", []):
        if not isinstance(jwk, Mapping) or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(dict(jwk))
        except jwt.PyJWKError:
            continue  # a key type this service does not use (an encryption key, HS "oct")
        if key.algorithm_name in ALGORITHMS:
            keys[str(jwk["kid"])] = key
    return keys


# ---------------------------------------------------------------------- checking


REQUIRED = ("iss", "aud", "sub", "role", "iat", "exp", "jti")


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str  # this service's name
    max_lifetime_seconds: int
    development: bool
    leeway_seconds: int = LEEWAY_SECONDS


class TokenVerifier:
    """Checks bearer tokens for one service; `verify` answers the claims or raises TokenRefused."""

    def __init__(self, keys: KeySet, policy: TokenPolicy) -> None:
        self.keys, self.policy = keys, policy

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        policy = self.policy
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenRefused("the bearer token is not a JWT (three base64url parts separated by dots)") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise TokenRefused(
                f"the token is signed with {algorithm!r}; only {' or '.join(ALGORITHMS)} tokens from the issuer "
                "are accepted (a shared-secret HS256 token is no longer valid)"
            )
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("the token's header has no 'kid' naming the key that signed it")
        if kid.lower().startswith(DEV_KID_PREFIX) and not policy.development:
            raise TokenRefused(f"the token is signed with a development key (kid {kid!r}), refused outside development")
        key = self.keys.get(kid)
        if key is None:
            raise TokenRefused(
                f"the token's signing key (kid {kid!r}) is not one this service trusts (TOKEN_JWKS): "
                "get a token from the issuer"
            )
        if key.algorithm_name != algorithm:
            raise TokenRefused(f"the token says {algorithm} but its key (kid {kid!r}) is a {key.algorithm_name} key")
        claims = self._decode(token, key)
        lifetime = int(claims["exp"]) - int(claims["iat"])
        if lifetime > policy.max_lifetime_seconds:
            raise TokenRefused(
                f"the token lives {lifetime} s (exp - iat); at most {policy.max_lifetime_seconds} s are accepted: "
                "ask for a shorter-lived token"
            )
        if int(claims["iat"]) > (now or time.time()) + policy.leeway_seconds:
            raise TokenRefused("the token's 'iat' (issued at) is in the future: check the issuer's clock")
        return claims

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        policy = self.policy
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=policy.audience,
                issuer=policy.issuer,
                leeway=policy.leeway_seconds,
                options={"require": list(REQUIRED), "verify_iat": True},
            )
        except jwt.MissingRequiredClaimError as exc:
            carried = ", ".join(REQUIRED)
            raise TokenRefused(f"the token has no '{exc.claim}' claim; every token must carry {carried}") from None
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the token has expired ('exp'); ask for a new one") from None
        except jwt.InvalidAudienceError:
            wanted = policy.audience
            raise TokenRefused(f"the token is not for this service: its 'aud' does not name {wanted!r}") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused(f"the token's 'iss' is not the issuer this service trusts ({policy.issuer})") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("the token is not valid yet ('iat' or 'nbf' is in the future)") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("the token's signature does not verify: altered, or signed by another key") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRefused(f"the token is not valid ({exc})") from None


# ---------------------------------------------------------------------- development keys


@dataclass(frozen=True)
class DevKeys:
    """`make run`'s keys under var/keys/: made once, kept across runs."""

    signing_key_file: Path
    jwks_file: Path
    link_key_file: Path
    draft_key_file: Path

    @property
    def link_key(self) -> str:
        return self.link_key_file.read_text().strip()

    @property
    def draft_key(self) -> str:
        return self.draft_key_file.read_text().strip()

    def environment(self, issuer: str, max_lifetime: timedelta) -> dict[str, str]:
        """What a service's environment says to trust, sign and link with these keys."""
        return {
            "TOKEN_JWKS": str(self.jwks_file),
            "TOKEN_ISSUER": issuer,
            "TOKEN_SIGNING_KEY_FILE": str(self.signing_key_file),
            "TOKEN_MAX_LIFETIME_SECONDS": str(int(max_lifetime.total_seconds())),
            "LINK_SIGNING_KEY": self.link_key,
            "DRAFT_SECRET": self.draft_key,
        }


def _write_once(path: Path, make: Callable[[], str]) -> None:
    """Write `path` (0600) unless it exists; of two processes starting at once one writes."""
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(make())
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)  # fails if another process was first: theirs is kept
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def ensure_dev_keys(folder: Path, kid_prefix: str = DEV_KID_PREFIX) -> DevKeys:
    """The development key pair (kid `dev-…`), its JWKS, and the link and draft keys (the
    tests' keys are made the same way, with kids of their own)."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = DevKeys(
        folder / "token-signing.jwk.json", folder / "jwks.json", folder / "link-signing.key", folder / "drafts.key"
    )
    _write_once(keys.signing_key_file, lambda: json.dumps(generate_signing_key(kid_prefix).private_jwk) + "\n")
    signing = load_signing_keys(keys.signing_key_file)
    published = json.dumps(jwks_document(signing), indent=2) + "\n"
    if not keys.jwks_file.exists() or keys.jwks_file.read_text() != published:
        temporary = keys.jwks_file.with_name(f".jwks.{os.getpid()}.{secrets.token_hex(4)}")
        temporary.write_text(published)
        os.replace(temporary, keys.jwks_file)  # the public half always follows the private key
    _write_once(keys.link_key_file, lambda: secrets.token_urlsafe(48) + "\n")
    _write_once(keys.draft_key_file, lambda: secrets.token_urlsafe(48) + "\n")
    return keys


# ---------------------------------------------------------------------- outside development


def _under(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def production_problems(
    *,
    jwks: str,
    issuer: str,
    signing_key_file: str,
    link_key: str,
    dev_folders: Sequence[Path],
) -> list[str]:
    """What keeps these token and link settings from running outside development."""
    problems: list[str] = []
    if not issuer:
        problems.append("TOKEN_ISSUER must be set outside development (the `iss` the issuer's tokens carry)")
    if not jwks:
        problems.append(
            "TOKEN_JWKS must be set outside development: the issuer's key set, e.g. "
            "https://vejviser.example.dk/.well-known/jwks.json"
        )
    elif not is_url(jwks):
        problems += _file_problems("TOKEN_JWKS", Path(jwks), dev_folders, public=True)
    if signing_key_file:
        problems += _file_problems("TOKEN_SIGNING_KEY_FILE", Path(signing_key_file), dev_folders, public=False)
    if not link_key:
        problems.append("LINK_SIGNING_KEY must be set outside development (at least 32 random bytes)")
    elif len(link_key.encode()) < 32:
        problems.append(f"LINK_SIGNING_KEY is {len(link_key.encode())} bytes; it must be at least 32 random bytes")
    elif link_key in RETIRED_SECRETS:
        problems.append("LINK_SIGNING_KEY is the development secret of an earlier release: set a random one")
    return problems


def _file_problems(name: str, path: Path, dev_folders: Sequence[Path], *, public: bool) -> list[str]:
    if any(_under(path, folder) for folder in dev_folders):
        return [f"{name} {path} is a development key (under var/): refused outside development"]
    try:
        kids = kids_of(json.loads(path.read_bytes())) if public else [k.kid for k in load_signing_keys(path)]
    except (OSError, ValueError) as exc:
        return [f"{name} {path} cannot be read ({exc})"]
    development = [kid for kid in kids if kid.lower().startswith(DEV_KID_PREFIX)]
    if development:
        return [f"{name} {path} holds a development key (kid {development[0]!r}): refused outside development"]
    return []
