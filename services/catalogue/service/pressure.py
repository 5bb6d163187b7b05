"""Referral pressure: pending referrals per community, from the referrals stream, so
referrers can see where newcomers already wait.

Idempotent twice over: the inbox skips a redelivered event, and every handler is an upsert
into a referral-id keyed table whose terminal states never reopen.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalogue.store import PendingReferral
from shared.events import Envelope, Event
from shared.events.referrals import ReferralCancelled, ReferralCreated, ReferralRejected, WelcomeConfirmed

PENDING = "pending"


def _settle(session: Session, referral_id: str, state: str, community_id: str | None = None) -> None:
    row = session.get(PendingReferral, referral_id)
    if row is None:
        # The end of a referral may arrive before its start (another consumer's order);
        # remember it so the later ReferralCreated does not count it as pending.
        session.add(PendingReferral(referral_id=referral_id, community_id=community_id, state=state))
        return
    row.state = state
    if community_id is not None:
        row.community_id = community_id


def on_created(session: Session, _: Envelope, event: Event) -> None:
    assert isinstance(event, ReferralCreated)
    row = session.get(PendingReferral, event.referral_id)
    if row is None:
        session.add(PendingReferral(referral_id=event.referral_id, community_id=event.community_id, state=PENDING))
    elif row.community_id is None:
        row.community_id = event.community_id


def on_welcomed(session: Session, _: Envelope, event: Event) -> None:
    assert isinstance(event, WelcomeConfirmed)
    _settle(session, event.referral_id, "welcomed", event.community_id)


def on_rejected(session: Session, _: Envelope, event: Event) -> None:
    assert isinstance(event, ReferralRejected)
    _settle(session, event.referral_id, "rejected")


def on_cancelled(session: Session, _: Envelope, event: Event) -> None:
    assert isinstance(event, ReferralCancelled)
    _settle(session, event.referral_id, "cancelled")
