"""Settings of the web client (environment variables, on top of the shared ones)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import DEV_KEYS_DIR, Settings
from shared.tokens import RETIRED_SECRETS, ensure_dev_keys

# The development identity provider's client secret, so `make run` logs in with no
# configuration; outside development OIDC_CLIENT_SECRET must be set.
DEV_OIDC_CLIENT_SECRET = "vejviser-web-dev-client-secret"
DEV_IDP_PATH = "/dev-idp"


class WebSettings(Settings):
    service: str = "web"
    # OpenID Connect: the municipality's identity provider (Entra ID or a broker in front of
    # KOMBIT's Context Handler). Empty means the development IdP mounted on this app.
    oidc_issuer: str = ""
    oidc_client_id: str = "vejviser-web"
    oidc_client_secret: str = DEV_OIDC_CLIENT_SECRET
    oidc_scope: str = "openid profile"
    # Claims carrying the user's role(s), communities and display name; role values are mapped
    # through oidc_role_map (claim value -> Vejviser role) and otherwise taken as role names.
    oidc_role_claim: str = "roles"
    oidc_community_claim: str = "communities"
    oidc_name_claim: str = "name"
    oidc_role_map: dict[str, str] = Field(default_factory=dict)
    # Server-side sessions: signed out after this long without a request, and after this long
    # in any case.
    session_idle_minutes: float = 30.0
    session_absolute_minutes: float = 10 * 60.0
    # The municipality's accessibility statement (made with the Agency for Digital Government's
    # WAS tool), linked in every page's footer.
    accessibility_statement_url: str = "https://www.was.digst.dk/"
    # The APIs the pages are built on.
    catalogue_url: str = "http://localhost:8001"
    referrals_url: str = "http://localhost:8002"
    notifications_url: str = "http://localhost:8003"
    analytics_url: str = "http://localhost:8004"
    # Login by e-mail for volunteers (ambassadors, community contacts): a link works once,
    # within this long. Asking for links is limited per address and per client address
    # (uvicorn's client address: behind a reverse proxy set FORWARDED_ALLOW_IPS to it), in a
    # sliding window; a request whose link was used does not count.
    login_link_minutes: float = 15.0
    login_mail_window_minutes: float = 15.0
    login_mail_per_address: int = 3
    login_mail_per_ip: int = 20
    # Keys the server-side drafts' contact data and the login-mail asks' hashes: the web's own
    # key (development: var/keys/drafts.key); at least 32 bytes outside development.
    draft_secret: str = ""
    # Tokens of municipal systems (client credentials, POST /oauth/token) live this long.
    client_token_seconds: int = Field(default=300, ge=30, le=300)

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if self.development:
            if not self.draft_secret:
                self.draft_secret = ensure_dev_keys(DEV_KEYS_DIR).draft_key
        else:
            if len(self.draft_secret.encode()) < 32 or self.draft_secret in RETIRED_SECRETS:
                raise ValueError("DRAFT_SECRET must be set outside development (at least 32 random bytes)")
            if not self.token_signing_key_file:
                raise ValueError(
                    "TOKEN_SIGNING_KEY_FILE must be set outside development: the web client signs the tokens "
                    "of its calls (its public keys are served at /.well-known/jwks.json)"
                )
        if not self.oidc_issuer:
            if not self.development:
                raise ValueError("OIDC_ISSUER must be set outside development (the dev IdP only runs there)")
            self.oidc_issuer = self.public_base_url.rstrip("/") + DEV_IDP_PATH
        if not self.development and self.oidc_client_secret == DEV_OIDC_CLIENT_SECRET:
            raise ValueError("OIDC_CLIENT_SECRET must be set outside development")

    @property
    def dev_idp(self) -> bool:
        """The development IdP is mounted when it is the configured issuer (development only)."""
        return self.development and self.oidc_issuer == self.public_base_url.rstrip("/") + DEV_IDP_PATH
