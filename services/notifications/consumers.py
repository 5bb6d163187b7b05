"""What the notifications service reads: the referrals and catalogue streams, each event type
to one bulk handler that applies a run of events in one go (see `service.decide`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.notifications.service import Notifications
from services.notifications.service.decide import CATALOGUE_EVENTS, REFERRAL_EVENTS, on_catalogue, on_referrals
from shared.inbox import Pair, batched
from shared.runtime import Subscription


def handlers(app: Notifications) -> tuple[Subscription, ...]:
    """The service's HANDLERS, bound to its service object. One handler object per stream, so
    the inbox hands it whole runs of mixed event types, in stream order."""

    def referrals(session: Session, pairs: list[Pair]) -> None:
        on_referrals(app, app.unit_of_work(session), pairs)

    def catalogue(session: Session, pairs: list[Pair]) -> None:
        on_catalogue(app.unit_of_work(session), pairs)

    on_referral_events, on_catalogue_events = batched(referrals), batched(catalogue)
    return (
        Subscription("referrals", "referrals", dict.fromkeys(REFERRAL_EVENTS, on_referral_events)),
        Subscription("catalogue", "catalogue", dict.fromkeys(CATALOGUE_EVENTS, on_catalogue_events)),
    )
