"""The use cases of the referrals service, one module per resource, on one service object
that holds the runtime, the citizen vault, the settings and the event appliers."""

from __future__ import annotations

from services.referrals.crypto import CitizenVault
from services.referrals.service.accompaniment import Accompaniment
from services.referrals.service.apply import Appliers
from services.referrals.service.audit import AuditLog
from services.referrals.service.citizens import Citizens
from services.referrals.service.export import Exports
from services.referrals.service.referrals import Referrals
from services.referrals.service.referrers import Referrers
from services.referrals.service.retention import Retention
from services.referrals.service.views import Views
from services.referrals.service.welcome import Welcome
from services.referrals.settings import ReferralsSettings
from shared.runtime import Runtime


class ReferralsService:
    def __init__(self, runtime: Runtime, settings: ReferralsSettings, vault: CitizenVault) -> None:
        self.runtime, self.settings, self.vault = runtime, settings, vault
        self.appliers = Appliers(vault, runtime)
        self.referrers = Referrers(runtime, self.appliers)
        self.citizens = Citizens(runtime, self.appliers, vault)
        self.views = Views(runtime, vault)
        self.referrals = Referrals(runtime, self.appliers, self.views)
        self.accompaniment = Accompaniment(runtime, self.appliers, self.views)
        self.welcome = Welcome(runtime, settings)
        self.audit_log = AuditLog(runtime)
        self.exports = Exports(runtime, vault, self.citizens)
        self.retention = Retention(runtime, self.citizens, settings.retention_at)
