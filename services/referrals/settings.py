"""Settings of the referrals service (environment variables on top of the shared ones)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from shared.settings import VAR_DIR, Settings


class ReferralsSettings(Settings):
    service: str = "referrals"
    # The key store's own database (citizens' keys, wrapped): never DATABASE_URL. In
    # development a SQLite file beside the referrals database (`referrals-keys.db`).
    key_store_url: str = ""
    # The JSON file of key-encryption keys (docs/operations.md, "Citizen keys"). In development
    # made (mode 0600) beside the referrals database when missing; required everywhere else.
    citizen_kek_file: str = ""
    # Demo seeding waits for the catalogue's communities to arrive before referring to them.
    demo_wait_seconds: float = 120.0
    demo_min_communities: int = 10
    # When the nightly retention job runs, on the Copenhagen wall clock (RETENTION_AT, e.g. "02:30").
    retention_at: time = time(2, 30)

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        development = self.development  # any case: "Production" is not development
        if not self.key_store_url:
            if not development:
                raise ValueError(
                    "KEY_STORE_URL must be set outside development: the key store's own database "
                    "(e.g. postgresql://vejviser_keys:…@host/referrals_keys), apart from DATABASE_URL"
                )
            self.key_store_url = f"sqlite:///{self.data_dir() / f'{self.service}-keys.db'}"
        if not self.citizen_kek_file:
            if not development:
                raise ValueError(
                    "CITIZEN_KEK_FILE must be set outside development: the path of the citizen key-encryption "
                    "key file (make one with `vejviser referrals keys init`)"
                )
            self.citizen_kek_file = str(self.data_dir() / f"{self.service}-kek.json")
        if self.key_store_url == self.database_url:
            raise ValueError("KEY_STORE_URL must not be DATABASE_URL: the keys are kept apart from the data")

    def data_dir(self) -> Path:
        """Where development keeps this service's files: beside its SQLite database, else var/."""
        prefix = "sqlite:///"
        path = self.database_url.removeprefix(prefix) if self.database_url.startswith(prefix) else ""
        if path and path != ":memory:":
            return Path(path).resolve().parent
        VAR_DIR.mkdir(exist_ok=True)
        return VAR_DIR
