"""Erasure: once a citizen is erased, nothing about them is told to anyone again.

Two events say so. `ReferralCancelled(reason="erased")` comes for each of the citizen's open
referrals, then `CitizenErased` for the citizen, which reaches their other referrals too:
welcomed ones (they have the 4- and 12-week questions ahead) and ended ones (messages about
them sit in inboxes). The service knows a referral's citizen from `ReferralCreated.citizen_ref`.

Erasing a referral here:
- keeps a tombstone (`Referral.forgotten`): the rules treat it as ended, and every later,
  redelivered or replayed event about it is ignored, so nothing about it is planned again;
- drops the messages decided about it in the same batch, before they are recorded;
- cancels every timer of it, whatever the rule;
- deletes every message about it from every inbox, with its deliveries: a queued e-mail or SMS
  and a webhook call waiting for its retry are never made;
- takes its lines out of the weekly digests that mention it (a digest left empty is deleted).

Deleted, not redacted: a message about a referral tells its reader which community, when, with
or without accompaniment or special consideration, when the first visit is; a redacted shell
("message removed") would still tie a referral to a reader and a time and give them nothing to
act on (the referral's page is gone too). The tombstone, not the messages' dedup keys, is what
keeps anything from being sent again. A withdrawn cancellation changes none of this: it only
ends the referral's timers, as before.

A delivery the worker had already handed to its channel when the erasure committed cannot be
called back; it is the one message that may still arrive.
"""

from __future__ import annotations

import json
import logging

from services.notifications import rules, store
from services.notifications.domain import Rule
from services.notifications.messages import stored
from services.notifications.service.batch import Batch
from shared.events import Envelope
from shared.events import referrals as ref

log = logging.getLogger("vejviser.notifications.erasure")


def referral_erased(batch: Batch, envelope: Envelope, event: ref.ReferralCancelled) -> None:
    _erase(batch, event.referral_id, envelope)


def citizen_erased(batch: Batch, envelope: Envelope, event: ref.CitizenErased) -> None:
    """Every referral of the citizen: the batch loaded them (`citizen_refs` of `on_referrals`),
    and any created earlier in the same batch is among its facts too."""
    for referral in list(batch.referrals.facts.values()):
        if referral.citizen_ref == event.citizen_ref:
            _erase(batch, referral.referral_id, envelope)


def _erase(batch: Batch, referral_id: str, envelope: Envelope) -> None:
    batch.erased.add(referral_id)  # also one we never saw: nothing of it may stay behind
    referral = batch.referrals.get(referral_id)
    if referral is not None and not referral.erased:
        batch.referrals.put(referral_id, referral.forgotten(envelope.time))


def undecide(batch: Batch) -> None:
    """Drop the batch's decisions about erased referrals before they become messages."""
    batch.decided = [notify for notify in batch.decided if notify.referral_id not in batch.erased]


def forget(batch: Batch) -> None:
    """After the batch wrote its messages and timers: cancel the erased referrals' timers,
    delete the messages about them and take them out of digests, in the same transaction."""
    if not batch.erased:
        return
    session, erased = batch.session, sorted(batch.erased)
    timers = store.cancel_timers_of(session, erased, batch.now)
    messages = store.drop_messages_about(session, erased)
    referrers = {referral.referrer_id for rid in erased if (referral := batch.referrals.get(rid)) is not None}
    rewritten: dict[str, str] = {}
    emptied: list[str] = []
    for nudge_id, facts in store.messages_to(session, Rule.weekly_digest, referrers):
        context = json.loads(facts)
        redacted = rules.digest_without(context, batch.erased)
        if redacted is None:
            emptied.append(nudge_id)
        elif redacted != context:
            rewritten[nudge_id] = stored(redacted)
    store.rewrite_contexts(session, rewritten)
    store.drop_nudges(session, emptied)
    # Counts only: never which referral or citizen.
    log.info(
        "erased referrals forgotten",
        extra={
            "referrals": len(erased),
            "timers_cancelled": timers,
            "messages_deleted": messages + len(emptied),
            "digests_redacted": len(rewritten),
        },
    )
