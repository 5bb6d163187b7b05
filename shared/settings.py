"""Service settings from the environment (pydantic-settings).

Each service reads `DATABASE_URL` and `NATS_URL` (and the rest below); defaults run the whole
system on one laptop: a SQLite file per service under `var/` and a local nats-server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.mail import Smtp, SmtpSecurity
from shared.proxies import TrustedProxies
from shared.tokens import ensure_dev_keys, production_problems

REPO_ROOT = Path(__file__).resolve().parent.parent
# Everything a local run keeps (databases, NATS store, logs, mail, tokens); tests point it
# elsewhere with VEJVISER_VAR_DIR.
VAR_DIR = Path(os.environ.get("VEJVISER_VAR_DIR", REPO_ROOT / "var"))

# The one table of services and their ports (`make run`, compose, docs and tests read it).
SERVICE_PORTS = {"web": 8000, "catalogue": 8001, "referrals": 8002, "notifications": 8003, "analytics": 8004}
SERVICES: tuple[str, ...] = tuple(SERVICE_PORTS)
# The services a bearer token is for (its `aud`); the web client, which issues them, takes none.
TOKEN_AUDIENCES: tuple[str, ...] = tuple(name for name in SERVICES if name != "web")
# Development's keys (token key pair, link and draft keys), made once by the first process
# that needs them (shared/tokens.py, ensure_dev_keys); refused outside development.
DEV_KEYS_DIR = VAR_DIR / "keys"
# The `iss` of development's tokens, where TOKEN_ISSUER is not set.
DEV_TOKEN_ISSUER = "vejviser-development"
# Development's longest token lifetime, where TOKEN_MAX_LIFETIME_SECONDS is not set: the demo
# tokens of var/dev-tokens.json live 12 hours, so they outlast a working session.
DEV_TOKEN_MAX_LIFETIME_SECONDS = 12 * 3600


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service: str = "catalogue"
    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    # Each service connects to NATS as its own user (shared/nats_auth.py): its password comes
    # from NATS_PASSWORD, or from the JSON file NATS_CREDENTIALS_FILE names (user -> password),
    # which `make run` and the tests write. The user defaults to the service's name.
    nats_user: str = ""
    nats_password: str = ""
    nats_credentials_file: str = ""
    # JetStream replicas of every stream: 1 on one server, 3 on a three-node cluster.
    stream_replicas: int = Field(default=1, ge=1, le=5)
    host: str = "127.0.0.1"
    port: int = 0
    # Bearer tokens (shared/tokens.py): the issuer's public keys (a JWKS URL or file), its
    # `iss`, and the longest lifetime (exp - iat) a token may have. In development both default
    # to the keys under var/keys/ and DEV_TOKEN_ISSUER.
    token_jwks: str = ""
    token_issuer: str = ""
    token_max_lifetime_seconds: int = Field(default=3600, ge=60)
    # The private key the web client signs its tokens with (PEM, JWK, or a JWK Set whose first
    # key signs); only the issuer has it. The `vejviser token` command uses it too.
    token_signing_key_file: str = ""
    # ENVIRONMENT: "development" (in any case) runs with development's keys; anything else
    # ("production", "staging", "Production") refuses them.
    environment: str = "development"
    log_level: str = "INFO"
    public_base_url: str = ""
    # Load the demo world at start-up when the database is empty (`make run` sets DEMO=1).
    demo: bool = False
    # Where citizens' welcome links point (the referrals service).
    referrals_public_url: str = "http://localhost:8002"
    # The key of welcome links and other one-click links (shared/links.py, shared/welcome.py):
    # its own, never the tokens'; at least 32 bytes outside development.
    link_signing_key: str = ""

    # Where the web client answers: links in mails open its pages (and its one-click links).
    web_public_url: str = "http://localhost:8000"
    # E-mail: `make run` starts a local SMTP sink on 127.0.0.1:8025 (services/notifications/smtp_sink.py).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Vejviser <ingen-svar@vejviser.local>"
    # A municipality's relay: STARTTLS on 587 or implicit TLS on 465, with a login (shared/mail.py).
    smtp_security: SmtpSecurity = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_ca_file: str = ""

    # Reverse proxies whose X-Forwarded-For names the client (addresses or networks,
    # comma-separated; shared/proxies.py): rate limits key on the client, not on the proxy.
    trusted_proxies: str = ""

    # Consumer policy: how often a failing message is tried and how long to wait between tries.
    max_deliver: int = 5
    retry_backoff_seconds: list[float] = Field(default_factory=lambda: [1.0, 5.0, 30.0, 120.0])
    fetch_batch: int = 256
    # A replica whose consumer is on standby (another replica holds its lease, shared/lease.py)
    # asks again this often: how soon it takes over from one that died.
    consumer_standby_seconds: float = Field(default=2.0, gt=0)
    # How long a consumer's fetch (and the dead-letter keeper's) waits for messages before it
    # asks again; a stopping service waits for the fetch in progress (a fetch cut short could
    # leave a message delivered to nobody until its ack wait ends), so also how long a stop takes.
    consumer_fetch_seconds: float = Field(default=1.0, gt=0)
    relay_interval_seconds: float = 0.5
    # Outbox rows the relay publishes (pipelined) before it waits for their PubAcks.
    relay_batch: int = 1000
    # Request limits of every HTTP API (413 / 400 above them; shared/limits.py).
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_json_depth: int = Field(default=32, ge=2)
    # /readyz answers 503 once the oldest unsent outbox row is older than this: the relay is
    # stuck, and what the service decides no longer reaches anyone (shared/observability.py).
    ready_outbox_max_age_seconds: float = 120.0

    # Sent outbox rows are history once JetStream's dedup window has passed (the stream holds
    # the events); the relay deletes those older than this, hourly. 0 keeps them.
    outbox_retention_hours: float = 168.0

    def model_post_init(self, __context: object) -> None:
        if not self.database_url:
            VAR_DIR.mkdir(exist_ok=True)
            self.database_url = f"sqlite:///{VAR_DIR / (self.service + '.db')}"
        if not self.port:
            self.port = SERVICE_PORTS.get(self.service, 8000)
        if not self.public_base_url:
            self.public_base_url = f"http://localhost:{self.port}"
        # Both say what is wrong at start-up rather than at the first request or mail.
        TrustedProxies(self.trusted_proxies)
        _ = self.smtp
        if self.development:
            self._development_keys()
        else:
            self._refuse_development_keys()

    def _refuse_development_keys(self) -> None:
        """Outside development: no development key, no missing key set or issuer, no short link key."""
        problems = production_problems(
            jwks=self.token_jwks,
            issuer=self.token_issuer,
            signing_key_file=self.token_signing_key_file,
            link_key=self.link_signing_key,
            dev_folders=(DEV_KEYS_DIR, REPO_ROOT / "var"),
        )
        if problems:
            raise ValueError(f"ENVIRONMENT={self.environment}: " + "; ".join(problems))

    def _development_keys(self) -> None:
        """Development's defaults: `make run`'s keys under var/keys/, made on first use."""
        self.token_issuer = self.token_issuer or DEV_TOKEN_ISSUER
        if "token_max_lifetime_seconds" not in self.model_fields_set:
            self.token_max_lifetime_seconds = DEV_TOKEN_MAX_LIFETIME_SECONDS
        if self.token_jwks and self.link_signing_key:
            return
        keys = ensure_dev_keys(DEV_KEYS_DIR)
        if not self.token_jwks:
            self.token_jwks = str(keys.jwks_file)
            self.token_signing_key_file = self.token_signing_key_file or str(keys.signing_key_file)
        self.link_signing_key = self.link_signing_key or keys.link_key

    @property
    def development(self) -> bool:
        return self.environment.strip().lower() == "development"

    @classmethod
    def for_service(cls, settings: Settings | None = None, **overrides: object) -> Self:
        """This service's settings: `settings` as they are when already of this class, else
        its values (environment defaults when None) under this class's own `service` name."""
        if isinstance(settings, cls) and not overrides:
            return settings
        values = settings.model_dump(exclude={"service"}) if settings is not None else {}
        return cls.model_validate({**values, **overrides})

    def nats_credentials(self, default_user: str | None = None) -> tuple[str, str] | None:
        """(user, password) to connect to NATS with, or None for a server without users.

        The user is NATS_USER, else `default_user` (the CLIs connect as `admin`), else the
        service's name; the password is NATS_PASSWORD, else the user's entry in the JSON file
        NATS_CREDENTIALS_FILE names."""
        user = self.nats_user or default_user or self.service
        if self.nats_password:
            return user, self.nats_password
        if not self.nats_credentials_file:
            return None
        from shared.nats_auth import load_credentials  # the events registry is not needed here otherwise

        credentials = load_credentials(Path(self.nats_credentials_file))
        if user not in credentials:
            raise ValueError(f"NATS_CREDENTIALS_FILE {self.nats_credentials_file} has no password for user {user!r}")
        return user, credentials[user]

    @property
    def smtp(self) -> Smtp:
        return Smtp(
            self.smtp_host,
            self.smtp_port,
            self.mail_from,
            self.smtp_timeout_seconds,
            self.smtp_security,
            self.smtp_username,
            self.smtp_password,
            self.smtp_ca_file,
        )

    @property
    def source(self) -> str:
        """CloudEvents `source` of the events this service produces."""
        return f"/services/{self.service}"
