"""Tokens a service cannot forge, over real HTTP: the catalogue trusts only the web client's
published keys (TOKEN_JWKS is the web's /.well-known/jwks.json URL, fetched over HTTP), the
web client signs its own calls and the client-credentials tokens of municipal systems, and a
revoked system gets no new token. Outside development a service does not start with a
development key, whatever the case of ENVIRONMENT."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from services.catalogue.main import build as build_catalogue
from services.catalogue.settings import CatalogueSettings
from services.web.domain import WebUser
from services.web.main import build as build_web
from services.web.service.backends import Backend, BackendError
from services.web.settings import WebSettings
from shared.natsserver import free_port
from shared.principal import Role
from shared.settings import REPO_ROOT
from shared.tokens import generate_signing_key, jwks_document
from tests.helpers import TEST_ISSUER, ServedApp, ServedApps, SessionKeys, tls, token

OLD_DEV_SECRET = "vejviser-dev-secret-not-for-production-use"
BATCH = {"Content-Type": "application/cloudevents-batch+json"}


@dataclass
class Issuing:
    web: ServedApp
    catalogue: ServedApp
    web_db: str

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.catalogue.base_url, timeout=30, verify=tls())


@asynccontextmanager
async def issuing(nats_url: str, tmp_path: Path) -> AsyncIterator[Issuing]:
    web_port, catalogue_port = free_port(), free_port()
    web_db = f"sqlite:///{tmp_path / 'web.db'}"
    web_settings = WebSettings(
        database_url=web_db,
        port=web_port,
        public_base_url=f"http://127.0.0.1:{web_port}",
        catalogue_url=f"http://127.0.0.1:{catalogue_port}",
    )
    async with ServedApps() as apps:
        web = await apps.serve(build_web(web_settings), web_port)
        catalogue_settings = CatalogueSettings(
            database_url=f"sqlite:///{tmp_path / 'catalogue.db'}",
            nats_url=nats_url,
            token_jwks=f"{web.base_url}/.well-known/jwks.json",
        )
        catalogue = await apps.serve(build_catalogue(catalogue_settings), catalogue_port)
        yield Issuing(web, catalogue, web_db)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": TEST_ISSUER, "aud": "catalogue", "sub": "guide-anne", "role": "guide", "iat": now}
    return {k: v for k, v in {**base, "exp": now + 300, "jti": "j", **overrides}.items() if v is not None}


async def refusal(client: httpx.AsyncClient, bearer: str) -> str:
    answer = await client.get("/v1/communities", headers={"Authorization": f"Bearer {bearer}"})
    assert answer.status_code == 401, answer.text
    return str(answer.json()["error"]["message"])


async def test_the_catalogue_takes_only_the_web_clients_tokens_for_it(
    nats_clean: str, tmp_path: Path, token_keys: SessionKeys
) -> None:
    async with issuing(nats_clean, tmp_path) as system, system.client() as client:
        published = (await client.get(f"{system.web.base_url}/.well-known/jwks.json")).json()
        assert [key["kid"] for key in published["keys"]] == [token_keys.signing.kid]
        assert all("d" not in key for key in published["keys"])  # the public halves only

        signed = token_keys.signing
        refused = {
            "the old shared secret": jwt.encode(
                claims(role="admin"), OLD_DEV_SECRET, algorithm="HS256", headers={"kid": signed.kid}
            ),
            "another service's key": generate_signing_key("referrals-").sign(claims(role="admin")),
            "exp in 2100": signed.sign(claims(exp=int(datetime(2100, 1, 1, tzinfo=UTC).timestamp()))),
            "no jti": signed.sign(claims(jti=None)),
            "no aud": signed.sign(claims(aud=None)),
            "no iss": signed.sign(claims(iss=None)),
            "another audience": signed.sign(claims(aud="referrals")),
            "another issuer": signed.sign(claims(iss="https://elsewhere.example")),
        }
        messages = {what: await refusal(client, bearer) for what, bearer in refused.items()}
        assert "HS256" in messages["the old shared secret"]
        assert "not one this service trusts" in messages["another service's key"]
        assert "at most 43200 s" in messages["exp in 2100"]
        assert "'jti'" in messages["no jti"] and "'aud'" in messages["no aud"] and "'iss'" in messages["no iss"]
        assert "does not name 'catalogue'" in messages["another audience"]
        assert "'iss' is not the issuer" in messages["another issuer"]
        # What a refusal names is the claim, never a key.
        assert not any(token_keys.signing.public_jwk["x"] in message for message in messages.values())

        good = await client.get("/v1/communities", headers={"Authorization": f"Bearer {signed.sign(claims())}"})
        assert good.status_code == 200
        as_test = await client.get("/v1/communities", headers={"Authorization": f"Bearer {token('guide')}"})
        assert as_test.status_code == 200


async def test_the_web_clients_own_calls_carry_a_token_for_the_one_service_called(
    nats_clean: str, tmp_path: Path
) -> None:
    async with issuing(nats_clean, tmp_path) as system:
        pages = system.web.app.state.pages
        anne = WebUser("guide-anne", Role.guide, "Anne", ())
        answer = await asyncio.to_thread(pages.catalogue.call, anne, "GET", "/v1/communities")
        assert answer.status_code == 200
        sent = jwt.decode(pages.catalogue._token(anne), options={"verify_signature": False})
        assert sent["aud"] == "catalogue" and sent["exp"] - sent["iat"] == 300 and sent["iss"] == TEST_ISSUER
        # The same person's token for the referrals service is no good at the catalogue.
        misdirected = Backend(
            "referrals", system.catalogue.base_url, pages.backends.catalogue.issuer, pages.backends.client
        )
        with pytest.raises(BackendError) as refused:
            await asyncio.to_thread(misdirected.call, anne, "GET", "/v1/communities")
        assert refused.value.status == 401 and "'aud'" in refused.value.detail


# ---------------------------------------------------------------------- client credentials


def web_cli(web_db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": web_db}
    command = [sys.executable, "-m", "services.web", "clients", *args]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def printed(output: str) -> dict[str, str]:
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in output.splitlines())}


async def test_a_municipal_system_gets_a_token_by_client_credentials_until_revoked(
    nats_clean: str, tmp_path: Path
) -> None:
    async with issuing(nats_clean, tmp_path) as system, system.client() as client:
        added = await asyncio.to_thread(
            web_cli, system.web_db, "add", "Jobcenter KMD Momentum", "--audience", "catalogue"
        )
        assert added.returncode == 0, added.stderr
        credentials = printed(added.stdout)
        client_id, secret = credentials["client_id"], credentials["client_secret"]
        assert "cannot be shown again" in added.stderr
        # Two commands that change nothing, run side by side (each is a Python process that
        # takes about two seconds to start): the list, and the revocation of a client that is
        # not registered.
        listed, nobody = await asyncio.gather(
            asyncio.to_thread(web_cli, system.web_db, "list"),
            asyncio.to_thread(web_cli, system.web_db, "revoke", "system-nobody"),
        )
        assert client_id in listed.stdout and secret not in listed.stdout and "active" in listed.stdout
        assert nobody.returncode == 1

        endpoint = f"{system.web.base_url}/oauth/token"
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        issued = await client.post(endpoint, data=form)
        assert issued.status_code == 200, issued.text
        body = issued.json()
        assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 300
        assert issued.headers["cache-control"] == "no-store"
        minted = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert minted["role"] == "municipal_system" and minted["sub"] == client_id and minted["aud"] == ["catalogue"]
        assert minted["exp"] - minted["iat"] <= 300 and minted["jti"]

        bearer = {"Authorization": f"Bearer {body['access_token']}", **BATCH}
        ingested = await client.post("/v1/events", content=b"[]", headers=bearer)
        assert ingested.status_code == 200, ingested.text

        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        by_basic = await client.post(
            endpoint,
            data={"grant_type": "client_credentials", "audience": "catalogue"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert by_basic.status_code == 200, by_basic.text

        wrong = await client.post(endpoint, data={**form, "client_secret": secret + "x"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        assert wrong.headers["www-authenticate"].startswith("Basic")
        unknown = await client.post(endpoint, data={**form, "client_id": "system-nobody"})
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
        grant = await client.post(endpoint, data={**form, "grant_type": "password"})
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
        missing = await client.post(endpoint, data={"client_id": client_id, "client_secret": secret})
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
        beyond = await client.post(endpoint, data={**form, "audience": "referrals"})
        assert beyond.status_code == 400 and beyond.json()["error"] == "invalid_scope"
        assert "'referrals'" in beyond.json()["error_description"]
        nonsense = await client.post(endpoint, data={**form, "scope": "everything"})
        assert nonsense.status_code == 400 and "catalogue" in nonsense.json()["error_description"]
        both = await client.post(endpoint, data=form, headers={"Authorization": f"Basic {basic}"})
        assert both.status_code == 400 and both.json()["error"] == "invalid_request"

        revoked = await asyncio.to_thread(web_cli, system.web_db, "revoke", client_id)
        assert revoked.returncode == 0 and "within 5 minutes" in revoked.stdout
        after = await client.post(endpoint, data=form)
        assert after.status_code == 401 and after.json()["error"] == "invalid_client"
        assert "revoked" in after.json()["error_description"]


# ---------------------------------------------------------------------- start-up outside development


@pytest.mark.parametrize("environment", ["Production", "PRODUCTION", "staging"])
def test_a_service_does_not_start_with_a_development_key_outside_development(environment: str, tmp_path: Path) -> None:
    dev = generate_signing_key("dev-")
    (tmp_path / "jwks.json").write_text(json.dumps(jwks_document([dev])))
    env = {
        **os.environ,
        "ENVIRONMENT": environment,
        "TOKEN_JWKS": str(tmp_path / "jwks.json"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'catalogue.db'}",
        "PORT": str(free_port()),
    }
    started = subprocess.run(
        [sys.executable, "-m", "services.catalogue"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode != 0
    assert "holds a development key (kid 'dev-" in started.stderr
