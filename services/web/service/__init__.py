"""The web client's use cases. `Pages` holds what the pages' use cases share: the runtime
(sessions and drafts live in the web's own database), the settings, the backing services'
clients and the drafts' cipher. The modules beside it are one job each: `search` (finding
communities and their cards), `referral_wizard` (drafts and sending), `worklist` (my
referrals and their moves), `citizens` (a citizen's referrals, contact data and erasure)."""

from __future__ import annotations

from services.web.drafts import DraftBox
from services.web.service.backends import Backends
from services.web.settings import WebSettings
from shared.runtime import Runtime
from shared.tokens import Issuer


class Pages:
    def __init__(
        self, runtime: Runtime, settings: WebSettings, issuer: Issuer, backends: Backends | None = None
    ) -> None:
        self.runtime, self.settings = runtime, settings
        self.backends = backends or Backends(
            catalogue_url=settings.catalogue_url,
            referrals_url=settings.referrals_url,
            notifications_url=settings.notifications_url,
            analytics_url=settings.analytics_url,
            issuer=issuer,
        )
        self.catalogue, self.referrals = self.backends.catalogue, self.backends.referrals
        self.notifications, self.analytics = self.backends.notifications, self.backends.analytics
        self.drafts = DraftBox(settings.draft_secret)

    def close(self) -> None:
        self.backends.close()
