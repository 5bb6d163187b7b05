"""What the catalogue reads: referral events, for the pending referrals per community."""

from __future__ import annotations

from services.catalogue.service import pressure
from shared.events.referrals import ReferralCancelled, ReferralCreated, ReferralRejected, WelcomeConfirmed
from shared.runtime import Subscription

HANDLERS = (
    Subscription(
        "referrals",
        "referral-pressure",
        {
            ReferralCreated: pressure.on_created,
            WelcomeConfirmed: pressure.on_welcomed,
            ReferralRejected: pressure.on_rejected,
            ReferralCancelled: pressure.on_cancelled,
        },
    ),
)
