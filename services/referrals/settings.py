"""Settings of the referrals service (environment variables on top of the shared ones)."""

from __future__ import annotations

from shared.settings import Settings


class ReferralsSettings(Settings):
    service: str = "referrals"
    # urlsafe base64 of 32 random bytes; wraps every citizen's own key. Unset in development:
    # derived from TOKEN_SECRET (see docs/referrals.md). Production must set it.
    citizen_master_key: str = ""
    # Demo seeding waits for the catalogue's communities to arrive before referring to them.
    demo_wait_seconds: float = 120.0
    demo_min_communities: int = 10

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if self.environment == "production" and not self.citizen_master_key:
            raise ValueError("CITIZEN_MASTER_KEY must be set in production")
