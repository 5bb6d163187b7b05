"""Decided messages become rows, in bulk: one nudge per dedup key (it is also the recipient's
inbox entry) and one pending delivery per external channel.

Exactly-once effect, and why sending happens outside the deciding transaction: a decision
(a `nudge` row with a unique dedup key per rule, subject and recipient, plus one `pending`
delivery row per channel) commits in the same transaction as the inbox record of the event
or the firing of the timer that caused it. A redelivered or replayed event, or a timer fired
twice, meets the unique key and decides nothing new. The delivery worker sends after commit
and then marks the row sent. Sending inside the transaction would be worse both ways: a
rollback after a successful SMTP call would re-send on every retry, and a slow mail server
would hold the consumer's transaction open. The remaining window (a crash after the send and
before the mark) re-sends at most once per lease, with the same Message-ID /
X-Vejviser-Delivery id so a receiver can drop the copy.
"""

from __future__ import annotations

import logging
from datetime import datetime

from services.notifications import store
from services.notifications.domain import COMMUNITY_PREFIX, PERSONAL_CHANNELS, Notify
from services.notifications.messages import stored
from services.notifications.routing import route
from services.notifications.service.batch import Batch
from services.notifications.service.core import Notifications
from shared.clock import local
from shared.events.notifications import NudgeSent
from shared.ids import new_id
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.notifications.notify")


def _addresses(batch: Batch, recipient_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """(e-mail, phone) of each recipient: a person's work contact, a community's welcome contact."""
    community_ids = [r.removeprefix(COMMUNITY_PREFIX) for r in recipient_ids if r.startswith(COMMUNITY_PREFIX)]
    batch.communities.load(batch.session, community_ids)
    batch.recipients.load(batch.session, [r for r in recipient_ids if not r.startswith(COMMUNITY_PREFIX)])
    addresses: dict[str, tuple[str | None, str | None]] = {}
    for recipient_id in recipient_ids:
        if recipient_id.startswith(COMMUNITY_PREFIX):
            community = batch.communities.get(recipient_id.removeprefix(COMMUNITY_PREFIX))
            addresses[recipient_id] = (community.contact_email, community.contact_phone) if community else (None, None)
        else:
            person = batch.recipients.get(recipient_id)
            addresses[recipient_id] = (person.email, person.phone) if person else (None, None)
    return addresses


def record(app: Notifications, uow: UnitOfWork, batch: Batch) -> int:
    """Record the batch's decided messages; how many are new (a replay decides nothing new)."""
    decided, batch.decided = batch.decided, []
    if not decided:
        return 0
    session, now = uow.session, batch.now
    new_referrals = batch.new_referrals()  # no message about them is stored yet (`Batch.new_referrals`)
    taken = store.existing_dedup_keys(session, [d.dedup_key for d in decided if d.referral_id not in new_referrals])
    recipient_ids = list(dict.fromkeys(decision.recipient_id for decision in decided))
    preferences = store.preferences_of(session, recipient_ids)
    today = local(now).date()
    if app.tally_kept_from != today:  # once a day a process: yesterday's counts are done with
        store.forget_tally_before(session, today)
        app.tally_kept_from = today
    sent_today = store.personal_tally(session, recipient_ids, today)
    addresses = _addresses(batch, recipient_ids)
    webhooks = store.active_webhooks(session)
    nudges: list[dict[str, object]] = []
    deliveries: list[dict[str, object]] = []
    inbox_only: list[tuple[str, Notify]] = []
    for notify in decided:
        if notify.dedup_key in taken:
            continue
        recipient = notify.recipient_id
        email, phone = addresses[recipient]
        planned = route(
            notify,
            preferences.get(recipient, app.defaults),
            email=email,
            phone=phone,
            personal_sent_today=sent_today.get(recipient, 0),
            sms_enabled=app.settings.sms_enabled,
            now=now,
        )
        if planned is None:
            log.info("recipient opted out", extra={"rule": str(notify.rule), "recipient_id": recipient})
            continue
        taken.add(notify.dedup_key)
        sent_today[recipient] = sent_today.get(recipient, 0) + sum(p.channel in PERSONAL_CHANNELS for p in planned)
        nudge_id = new_id()
        nudges.append(
            {
                "id": nudge_id,
                "dedup_key": notify.dedup_key,
                "rule": str(notify.rule),
                "subject_id": notify.subject_id,
                "recipient_id": recipient,
                "referral_id": notify.referral_id,
                "context": stored(notify.context),
                "status": "pending" if planned else "sent",
                "created_at": now,
                "sent_at": None if planned else now,
                "read_at": None,
            }
        )
        targets: list[tuple[str, str, str | None, datetime]] = [
            (p.channel, p.address, None, p.not_before) for p in planned
        ]
        targets += [("webhook", hook.url, hook.id, now) for hook in webhooks if hook.wants(str(notify.rule))]
        deliveries += [
            {
                "id": new_id(),
                "nudge_id": nudge_id,
                "channel": channel,
                "address": address,
                "webhook_id": webhook_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": not_before,
                "last_error": None,
                "created_at": now,
                "sent_at": None,
            }
            for channel, address, webhook_id, not_before in targets
        ]
        if not planned:  # the inbox is the only channel: it is delivered by being written
            inbox_only.append((nudge_id, notify))
    unique = [nudge for nudge in nudges if nudge["referral_id"] in new_referrals]
    inserted = store.insert_nudges(session, [nudge for nudge in nudges if nudge["referral_id"] not in new_referrals])
    store.insert_unique_nudges(session, unique)
    inserted.update(str(nudge["id"]) for nudge in unique)
    deliveries = [delivery for delivery in deliveries if delivery["nudge_id"] in inserted]
    store.insert_deliveries(session, deliveries)
    store.add_to_tally(session, today, _personal_counts(nudges, deliveries))
    sent = [
        NudgeSent(
            nudge_id=nudge_id,
            rule=str(notify.rule),
            recipient_id=notify.recipient_id,
            channel="inbox",
            referral_id=notify.referral_id,
        )
        for nudge_id, notify in inbox_only
        if nudge_id in inserted
    ]
    if sent:
        uow.stage(*sent)
    return len(inserted)


def _personal_counts(nudges: list[dict[str, object]], deliveries: list[dict[str, object]]) -> dict[str, int]:
    """The e-mails and SMS written, by recipient (a nudge a concurrent decision took first has
    none written here)."""
    recipient_of = {nudge["id"]: str(nudge["recipient_id"]) for nudge in nudges}
    counts: dict[str, int] = {}
    for delivery in deliveries:
        if delivery["channel"] in PERSONAL_CHANNELS:
            recipient = recipient_of[delivery["nudge_id"]]
            counts[recipient] = counts.get(recipient, 0) + 1
    return counts
