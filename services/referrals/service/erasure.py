"""Erasing a citizen: one path for `DELETE /v1/citizens/{ref}`, the retention job and an
ingested `CitizenErased`.

1. The citizen's key is destroyed in the key store, before anything else: from that moment
   every copy of what was sealed with it (contact, notes, consent attributes and purpose), in
   the live database, in every backup and on every replica, is noise.
2. In the caller's unit of work: each open referral is cancelled (`ReferralCancelled` with
   reason `erased`, staged and applied, so the notifications service stops every timer), the
   ciphertexts are nulled and the loneliness measures deleted.

What stays is a pseudonymous skeleton for the statistics: the citizen_ref, the referrals'
statuses and timelines (codes and ids only), bridges. It says nothing about the person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.referrals import domain
from services.referrals.crypto import CitizenVault
from services.referrals.service import transitions
from services.referrals.service.batch import get_citizen
from services.referrals.service.bulk import Bulk
from services.referrals.tables import Citizen, Loneliness, Referral
from shared.events import Envelope, Event
from shared.events.referrals import CitizenErased, ReferralCancelled

Stage = Callable[[Session, Event, datetime], Envelope]


def erase_citizen(session: Session, envelope: Envelope, event: CitizenErased, vault: CitizenVault, stage: Stage) -> int:
    """Erase the citizen (404 unknown, 410 erased already, both before anything is
    destroyed); returns how many open referrals were cancelled."""
    citizen = get_citizen(session, event.citizen_ref)
    vault.destroy(event.citizen_ref)
    Bulk.of(session).write(session)  # an ingested run: its referrals and measures, new ones included
    session.flush()
    hold_citizen(session, event.citizen_ref, exclusive=True)
    referrals = list(session.scalars(select(Referral).where(Referral.citizen_ref == event.citizen_ref)))
    cancelled = 0
    for referral in referrals:
        if domain.Status(referral.status) in domain.OPEN:
            cancel = ReferralCancelled(referral_id=referral.referral_id, reason="erased")
            # Never before the referral's last change (a back-dated ingested erasure).
            at = max(envelope.time, referral.updated_at)
            transitions.move(session, stage(session, cancel, at), cancel, referral)
            cancelled += 1
        referral.note_ciphertext = None
    if referrals:
        session.execute(delete(Loneliness).where(Loneliness.referral_id.in_([r.referral_id for r in referrals])))
    citizen.contact_ciphertext = citizen.attributes_ciphertext = citizen.consent_purpose_ciphertext = None
    citizen.erased_at = envelope.time
    return cancelled


def hold_citizen(session: Session, citizen_ref: str, *, exclusive: bool = False) -> bool:
    """Lock the citizen's row to the end of the unit of work; True when they are erased.

    On PostgreSQL an erasure (exclusive) and a new referral (shared) of the same citizen then
    happen one after the other: a referral made first is cancelled by the erasure, one made
    after it is refused. (SQLite's writers queue anyway.)"""
    query = select(Citizen.erased_at).where(Citizen.citizen_ref == citizen_ref).with_for_update(read=not exclusive)
    return session.execute(query).scalar_one_or_none() is not None
