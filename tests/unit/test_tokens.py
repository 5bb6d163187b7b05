"""Tokens a service cannot forge (shared/tokens.py): what the check refuses and why, the key
set's cache, the signing keys' formats, and the start-up guard outside development."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from services.web.settings import WebSettings
from shared.settings import REPO_ROOT, Settings
from shared.tokens import (
    KeySet,
    KeysUnavailable,
    SigningKey,
    TokenPolicy,
    TokenRefused,
    TokenVerifier,
    generate_signing_key,
    jwks_document,
    load_signing_keys,
    mint,
)
from tests.helpers import TEST_ISSUER, SessionKeys, production_settings, token

OLD_DEV_SECRET = "vejviser-dev-secret-not-for-production-use"


def verifier(keys: SessionKeys, audience: str = "referrals", *, development: bool = True) -> TokenVerifier:
    policy = TokenPolicy(TEST_ISSUER, audience, max_lifetime_seconds=3600, development=development)
    return TokenVerifier(KeySet(str(keys.jwks_file)), policy)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": TEST_ISSUER,
        "aud": "referrals",
        "sub": "guide-anne",
        "role": "guide",
        "iat": now,
        "exp": now + 300,
        "jti": "j-1",
    }
    return {key: value for key, value in {**base, **overrides}.items() if value is not None}


def test_a_token_of_the_issuer_for_this_service_is_accepted(token_keys: SessionKeys) -> None:
    signed = mint(token_keys.signing, issuer=TEST_ISSUER, audience="referrals", actor_id="guide-anne", role="guide")
    accepted = verifier(token_keys).verify(signed)
    assert accepted["sub"] == "guide-anne" and accepted["aud"] == "referrals"
    # A list naming the service will do as well (the demo tokens and municipal systems' tokens).
    assert verifier(token_keys).verify(token("guide", ttl=timedelta(minutes=5)))["role"] == "guide"


@dataclass(frozen=True)
class FromNow:
    seconds: int


@pytest.mark.parametrize(
    ("what", "overrides", "message"),
    [
        ("no jti", {"jti": None}, "no 'jti' claim"),
        ("no aud", {"aud": None}, "no 'aud' claim"),
        ("no iss", {"iss": None}, "no 'iss' claim"),
        ("no iat", {"iat": None}, "no 'iat' claim"),
        ("another audience", {"aud": "catalogue"}, "its 'aud' does not name 'referrals'"),
        ("audience list without it", {"aud": ["catalogue", "analytics"]}, "does not name 'referrals'"),
        ("another issuer", {"iss": "https://elsewhere.example"}, "'iss' is not the issuer"),
        ("exp in 2100", {"exp": int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())}, "at most 3600 s"),
        ("expired", {"iat": FromNow(-900), "exp": FromNow(-600)}, "expired"),
        ("issued in the future", {"iat": FromNow(600), "exp": FromNow(900)}, "future"),
    ],
)
def test_a_token_missing_or_bending_a_claim_is_refused_by_name(
    token_keys: SessionKeys, what: str, overrides: dict[str, Any], message: str
) -> None:
    # Times relative to when the test runs, not to when it was collected (minutes earlier).
    now = int(time.time())
    resolved = {k: now + v.seconds if isinstance(v, FromNow) else v for k, v in overrides.items()}
    with pytest.raises(TokenRefused, match=message) as refused:
        verifier(token_keys).verify(token_keys.signing.sign(claims(**resolved)))
    assert refused.value.status == 401, what


def test_a_token_signed_with_the_old_shared_secret_is_refused(token_keys: SessionKeys) -> None:
    forged = jwt.encode(
        claims(role="admin"), OLD_DEV_SECRET, algorithm="HS256", headers={"kid": token_keys.signing.kid}
    )
    with pytest.raises(TokenRefused, match=r"'HS256'.*no longer valid"):
        verifier(token_keys).verify(forged)


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused(token_keys: SessionKeys) -> None:
    # The classic algorithm confusion: HS256 keyed with the published key's bytes.
    public = token_keys.signing.private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    forged = jwt.encode(claims(), public, algorithm="HS256", headers={"kid": token_keys.signing.kid})
    with pytest.raises(TokenRefused, match="HS256"):
        verifier(token_keys).verify(forged)


def test_a_token_signed_by_another_key_is_refused(token_keys: SessionKeys) -> None:
    # Another service's own key pair: a valid signature, by a key the issuer never published.
    other = generate_signing_key("catalogue-")
    with pytest.raises(TokenRefused, match=r"kid 'catalogue-[\w-]+'\) is not one this service trusts"):
        verifier(token_keys).verify(other.sign(claims(role="admin")))
    # The same kid as the issuer's, but another key: the signature does not verify.
    impostor = SigningKey(token_keys.signing.kid, "EdDSA", ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(TokenRefused, match="signature does not verify"):
        verifier(token_keys).verify(impostor.sign(claims(role="admin")))


def test_a_token_without_kid_or_not_a_jwt_is_refused(token_keys: SessionKeys) -> None:
    bare = jwt.encode(claims(), token_keys.signing.private, algorithm="EdDSA")
    with pytest.raises(TokenRefused, match="no 'kid'"):
        verifier(token_keys).verify(bare)
    with pytest.raises(TokenRefused, match="not a JWT"):
        verifier(token_keys).verify("not-a-token")


def test_development_keys_are_refused_outside_development(tmp_path: Path) -> None:
    dev = generate_signing_key("dev-")
    (tmp_path / "jwks.json").write_text(json.dumps(jwks_document([dev])))
    keys = KeySet(str(tmp_path / "jwks.json"))
    for development, accepted in ((True, True), (False, False)):
        check = TokenVerifier(keys, TokenPolicy(TEST_ISSUER, "referrals", 3600, development=development))
        signed = dev.sign(claims())
        if accepted:
            assert check.verify(signed)["sub"] == "guide-anne"
        else:
            with pytest.raises(TokenRefused, match="development key"):
                check.verify(signed)


def test_rs256_keys_of_an_identity_provider_are_accepted(tmp_path: Path) -> None:
    idp = SigningKey("idp-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    (tmp_path / "jwks.json").write_text(json.dumps(jwks_document([idp])))
    check = TokenVerifier(KeySet(str(tmp_path / "jwks.json")), TokenPolicy(TEST_ISSUER, "referrals", 3600, False))
    assert check.verify(idp.sign(claims()))["role"] == "guide"
    # The header cannot switch an RSA key to another algorithm.
    relabelled = jwt.encode(claims(), idp.private, algorithm="PS256", headers={"kid": "idp-1"})
    with pytest.raises(TokenRefused, match="PS256"):
        check.verify(relabelled)


# ---------------------------------------------------------------------- the key set at a URL


class FakeIssuer:
    """The issuer's JWKS endpoint: counts fetches, answers its current keys."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys, self.fetches, self.down = list(keys), 0, False

    def __call__(self, url: str) -> Mapping[str, Any]:
        self.fetches += 1
        if self.down:
            raise ValueError("connection refused")
        return jwks_document(self.keys)


def test_a_url_key_set_is_cached_and_fetched_again_rate_limited_on_an_unknown_kid() -> None:
    first, rotated = generate_signing_key("k1-"), generate_signing_key("k2-")
    issuer = FakeIssuer(first)
    now = [1000.0]
    keys = KeySet("https://issuer.example/.well-known/jwks.json", fetch=issuer, clock=lambda: now[0])
    check = TokenVerifier(keys, TokenPolicy(TEST_ISSUER, "referrals", 3600, development=False))
    for _ in range(5):
        check.verify(first.sign(claims()))
    assert issuer.fetches == 1
    # A key rotated in: the first token naming it waits for the rate limit, then is fetched.
    issuer.keys.append(rotated)
    now[0] += 5
    with pytest.raises(TokenRefused, match="not one this service trusts"):
        check.verify(rotated.sign(claims()))
    assert issuer.fetches == 1  # within 30 s of the last fetch: a made-up kid costs nothing
    now[0] += 30
    assert check.verify(rotated.sign(claims()))["sub"] == "guide-anne"
    assert issuer.fetches == 2
    # The issuer down: the keys held so far still serve.
    issuer.down = True
    now[0] += 700
    assert check.verify(first.sign(claims()))["sub"] == "guide-anne"
    assert issuer.fetches == 3


def test_a_url_key_set_never_fetched_is_a_503_naming_the_setting() -> None:
    issuer = FakeIssuer()
    issuer.down = True
    keys = KeySet("https://issuer.example/jwks", fetch=issuer)
    with pytest.raises(KeysUnavailable, match="TOKEN_JWKS") as unavailable:
        keys.get("any")
    assert unavailable.value.status == 503


# ---------------------------------------------------------------------- signing key files


def test_signing_keys_load_from_pem_jwk_and_key_set(tmp_path: Path) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    [from_pem] = load_signing_keys(pem)
    assert from_pem.algorithm == "EdDSA" and len(from_pem.kid) == 43  # the RFC 7638 thumbprint
    new, old = generate_signing_key("k-"), generate_signing_key("k-")
    (tmp_path / "key.jwk").write_text(json.dumps(new.private_jwk))
    assert [k.kid for k in load_signing_keys(tmp_path / "key.jwk")] == [new.kid]
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [new.private_jwk, old.private_jwk]}))
    assert [k.kid for k in load_signing_keys(tmp_path / "keys.json")] == [new.kid, old.kid]
    (tmp_path / "public.json").write_text(json.dumps(new.public_jwk))
    with pytest.raises(ValueError, match="no private part"):
        load_signing_keys(tmp_path / "public.json")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "small.pem").write_bytes(
        small.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(ValueError, match="at least 2048 bits"):
        load_signing_keys(tmp_path / "small.pem")


def test_minted_tokens_carry_every_claim_and_a_fresh_jti(token_keys: SessionKeys) -> None:
    first, second = token("guide"), token("guide")
    decoded = [jwt.decode(t, options={"verify_signature": False}) for t in (first, second)]
    for claims_ in decoded:
        assert {"iss", "aud", "sub", "role", "iat", "exp", "jti"} <= set(claims_)
    assert decoded[0]["jti"] != decoded[1]["jti"]
    assert jwt.get_unverified_header(first)["alg"] == "EdDSA"


# ---------------------------------------------------------------------- start-up outside development


@pytest.mark.parametrize("environment", ["production", "Production", "PRODUCTION", "staging", " Production "])
def test_outside_development_start_up_refuses_development_keys_whatever_the_case(
    environment: str, tmp_path: Path
) -> None:
    assert Settings(**production_settings(environment=environment)).token_jwks  # the test keys will do
    dev = generate_signing_key("dev-")
    (tmp_path / "dev-jwks.json").write_text(json.dumps(jwks_document([dev])))
    (tmp_path / "dev-key.json").write_text(json.dumps(dev.private_jwk))
    refused = {
        "a development kid in the JWKS": ({"token_jwks": str(tmp_path / "dev-jwks.json")}, "development key"),
        "the keys under var/": ({"token_jwks": str(REPO_ROOT / "var" / "keys" / "jwks.json")}, "under var/"),
        "a development signing key": ({"token_signing_key_file": str(tmp_path / "dev-key.json")}, "development key"),
        "no JWKS": ({"token_jwks": ""}, "TOKEN_JWKS must be set"),
        "no issuer": ({"token_issuer": ""}, "TOKEN_ISSUER must be set"),
        "no link key": ({"link_signing_key": ""}, "LINK_SIGNING_KEY must be set"),
        "a short link key": ({"link_signing_key": "x"}, "LINK_SIGNING_KEY is 1 bytes"),
        "the old development secret": ({"link_signing_key": OLD_DEV_SECRET}, "development secret of an earlier"),
    }
    for what, (overrides, message) in refused.items():
        with pytest.raises(ValueError, match=message):
            Settings(**production_settings(environment=environment, **overrides))
            pytest.fail(f"started with {what}")


def test_development_is_development_in_any_case() -> None:
    for environment in ("development", "Development", "DEVELOPMENT"):
        assert Settings(environment=environment).development
    assert not Settings(**production_settings(environment="staging")).development


def test_the_web_needs_its_signing_key_and_a_draft_key_outside_development(token_keys: SessionKeys) -> None:
    web = production_settings(oidc_issuer="https://login.example.dk", oidc_client_secret="from-the-vault")
    with pytest.raises(ValueError, match="DRAFT_SECRET"):
        WebSettings(**web, draft_secret="")
    with pytest.raises(ValueError, match="TOKEN_SIGNING_KEY_FILE must be set"):
        WebSettings(**web, draft_secret="d" * 32, token_signing_key_file="")
    started = WebSettings(**web, draft_secret="d" * 32, token_signing_key_file=str(token_keys.signing_key_file))
    assert not started.development


def test_links_have_their_own_key_with_no_fallback(token_keys: SessionKeys) -> None:
    settings = Settings()
    assert settings.link_signing_key == token_keys.link_key
    assert not hasattr(settings, "token_secret") and not hasattr(settings, "welcome_link_secret")
    assert token_keys.link_key.encode() not in token_keys.signing_key_file.read_bytes()


def test_development_allows_the_demo_tokens_12_hours_production_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKEN_MAX_LIFETIME_SECONDS")
    assert Settings().token_max_lifetime_seconds == 12 * 3600
    assert Settings(**production_settings()).token_max_lifetime_seconds == 3600
    assert Settings(token_max_lifetime_seconds=600).token_max_lifetime_seconds == 600
