"""The rules on events: keep the local directory current and let the rules react.

A consumer's batch arrives as runs of events (`shared.inbox.batched`); a run is applied in
event order to one `Batch` (its facts read up front) and written back in bulk, inside the
inbox transaction, so the effect and the record that the events were processed commit
together.
"""

from __future__ import annotations

from dataclasses import replace

from services.notifications import followup, rules, store
from services.notifications.domain import (
    PARTICIPATION_WEEKS,
    Community,
    Recipient,
    Referral,
    Rule,
    participation_subject,
    participation_timer_keys,
    welcome_timer_keys,
)
from services.notifications.service import erasure, notify
from services.notifications.service.batch import Batch
from services.notifications.service.core import Notifications
from services.notifications.service.timers import fire_now_if_due
from shared.events import Envelope, Event
from shared.events import catalogue as cat
from shared.events import referrals as ref
from shared.inbox import Pair
from shared.uow import UnitOfWork

ABOUT_A_REFERRAL = (
    ref.ReferralCreated,
    ref.AccompanimentArranged,
    ref.CitizenAccompanied,
    ref.WelcomeConfirmed,
    ref.ReferralRejected,
    ref.ReferralCancelled,
    ref.FirstVisitProposed,
    ref.NoShowReported,
    ref.ParticipationConfirmed,
)
REFERRAL_EVENTS = (ref.ReferrerActivated, *ABOUT_A_REFERRAL, ref.CitizenErased)
CATALOGUE_EVENTS = (
    cat.CommunityRegistered,
    cat.CommunityUpdated,
    cat.CommunityCapacityChanged,
    cat.CommunityArchived,
)


# ---------------------------------------------------------------------------- referrals stream


def on_referrals(app: Notifications, uow: UnitOfWork, pairs: list[Pair]) -> None:
    batch = Batch(uow.session, uow.now())
    events = [event for _, event in pairs]
    erased_citizens = [event.citizen_ref for event in events if isinstance(event, ref.CitizenErased)]
    batch.load(
        referral_ids=[
            *(event.referral_id for event in events if isinstance(event, ABOUT_A_REFERRAL)),
            *store.referral_ids_of_citizens(uow.session, erased_citizens),
        ],
        actor_ids=[event.actor_id for event in events if isinstance(event, ref.ReferrerActivated)],
        community_ids=[event.community_id for event in events if isinstance(event, ref.ReferralCreated)],
    )
    for envelope, event in pairs:
        _apply_referral_event(app, batch, envelope, event)
    erasure.undecide(batch)
    notify.record(app, uow, batch)
    batch.save()
    erasure.forget(batch)


def _apply_referral_event(app: Notifications, batch: Batch, envelope: Envelope, event: Event) -> None:
    if isinstance(event, ABOUT_A_REFERRAL):
        known = batch.referrals.get(event.referral_id)
        if known is not None and known.erased:
            return  # its citizen was erased: nothing about it, ever (a late or replayed event)
    if isinstance(event, ref.CitizenErased):
        erasure.citizen_erased(batch, envelope, event)
    elif isinstance(event, ref.ReferralCancelled) and event.reason == "erased":
        erasure.referral_erased(batch, envelope, event)
    elif isinstance(event, ref.ReferrerActivated):
        referrer_activated(app, batch, envelope, event)
    elif isinstance(event, ref.ReferralCreated):
        referral_created(app, batch, envelope, event)
    elif isinstance(event, ref.AccompanimentArranged | ref.CitizenAccompanied):
        _companion(batch, envelope, event)
    elif isinstance(event, ref.WelcomeConfirmed):
        welcome_confirmed(app, batch, envelope, event)
    elif isinstance(event, ref.ReferralRejected | ref.ReferralCancelled | ref.NoShowReported):
        _ended(app, batch, envelope, event)
    elif isinstance(event, ref.FirstVisitProposed):
        visit_proposed(app, batch, envelope, event)
    elif isinstance(event, ref.ParticipationConfirmed):
        _answered(batch, event)


def referrer_activated(app: Notifications, batch: Batch, envelope: Envelope, event: ref.ReferrerActivated) -> None:
    known = batch.recipients.get(event.actor_id)
    activated_at = envelope.time
    if known is not None and known.activated_at is not None and known.activated_at <= envelope.time:
        activated_at = known.activated_at  # only the first activation counts
    contact = event.contact
    recipient = Recipient(
        actor_id=event.actor_id,
        role=event.role,
        area=event.area,
        offers_accompaniment=event.offers_accompaniment,
        email=contact.email if contact else None,
        phone=contact.phone if contact else None,
        name=event.name,
        activated_at=activated_at,
        last_referral_at=known.last_referral_at if known else None,
    )
    batch.recipients.put(event.actor_id, recipient)
    dormant = rules.dormant_timer_from(recipient, batch.now, app.thresholds)
    if dormant is not None:
        batch.schedule(dormant)
    batch.schedule(rules.digest_timer(recipient, batch.now, app.thresholds))


def referral_created(app: Notifications, batch: Batch, envelope: Envelope, event: ref.ReferralCreated) -> None:
    if batch.referrals.get(event.referral_id) is not None:
        return  # the same referral under another event id: already planned
    referral = Referral(
        referral_id=event.referral_id,
        referrer_id=event.referrer_id,
        community_id=event.community_id,
        created_at=envelope.time,
        needs_accompaniment=event.needs_accompaniment,
        special_considerations=event.special_considerations,
        citizen_ref=event.citizen_ref,
    )
    batch.referrals.put(event.referral_id, referral)
    referrer = batch.recipients.get(event.referrer_id)
    if referrer is not None:
        if referrer.last_referral_at is None or envelope.time > referrer.last_referral_at:
            referrer = replace(referrer, last_referral_at=envelope.time)
            batch.recipients.put(referrer.actor_id, referrer)
        dormant = rules.dormant_timer(referrer, app.thresholds)
        if dormant is not None:
            batch.schedule(dormant, keep_later=True)
    for timer in rules.timers_for_referral(referral, batch.now, app.thresholds):
        batch.schedule(timer)
    # Tell the community now rather than on the next tick of the timer loop.
    fire_now_if_due(app, batch, Rule.welcome_contact, event.referral_id)


# An event about a referral we never saw (created before a purge) changes nothing here.


def _companion(batch: Batch, envelope: Envelope, event: ref.AccompanimentArranged | ref.CitizenAccompanied) -> None:
    referral = batch.referrals.get(event.referral_id)
    if referral is None:
        return
    if isinstance(event, ref.AccompanimentArranged):
        referral = replace(referral, accompaniment_arranged_at=referral.accompaniment_arranged_at or envelope.time)
    else:
        referral = replace(referral, accompanied_at=referral.accompanied_at or envelope.time)
    batch.referrals.put(referral.referral_id, replace(referral, companion_id=event.companion_id))
    batch.cancel(referral.referral_id, [(Rule.accompaniment_needed, referral.referral_id)])


def welcome_confirmed(app: Notifications, batch: Batch, envelope: Envelope, event: ref.WelcomeConfirmed) -> None:
    referral = batch.referrals.get(event.referral_id)
    if referral is None:
        return
    first = referral.welcomed_at is None
    referral = replace(referral, welcomed_at=referral.welcomed_at or envelope.time)
    batch.referrals.put(referral.referral_id, referral)
    batch.cancel(referral.referral_id, welcome_timer_keys(referral.referral_id))
    community = batch.communities.get(referral.community_id)
    batch.decided += rules.on_welcome_confirmed(referral, community, envelope.time, batch.now, app.thresholds)
    if first:  # the questions 4 and 12 weeks on, counted from the welcome's event time
        for timer in followup.participation_timers(referral, envelope.time, batch.now, app.thresholds):
            batch.schedule(timer)
        for weeks in PARTICIPATION_WEEKS:  # a back-dated welcome asks a passed question now
            fire_now_if_due(app, batch, Rule.participation_followup, participation_subject(referral.referral_id, weeks))


def _ended(
    app: Notifications,
    batch: Batch,
    envelope: Envelope,
    event: ref.ReferralRejected | ref.ReferralCancelled | ref.NoShowReported,
) -> None:
    referral = batch.referrals.get(event.referral_id)
    if referral is None:
        return
    if isinstance(event, ref.ReferralRejected):
        referral = replace(referral, rejected_at=referral.rejected_at or envelope.time, rejection_reason=event.reason)
    elif isinstance(event, ref.ReferralCancelled):
        referral = replace(referral, cancelled_at=referral.cancelled_at or envelope.time)
    else:
        referral = replace(referral, no_show_at=referral.no_show_at or envelope.time)
        community = batch.communities.get(referral.community_id)
        batch.decided += followup.on_no_show(referral, community, envelope.time, batch.now, app.thresholds)
    batch.referrals.put(referral.referral_id, referral)
    rid = referral.referral_id
    batch.cancel(rid, [*welcome_timer_keys(rid), *participation_timer_keys(rid)])


def visit_proposed(app: Notifications, batch: Batch, envelope: Envelope, event: ref.FirstVisitProposed) -> None:
    referral = batch.referrals.get(event.referral_id)
    if referral is None:
        return
    community = batch.communities.get(referral.community_id)
    batch.decided += followup.on_visit_proposed(
        referral, community, event.visit_at, event.proposed_by, envelope.time, batch.now, app.thresholds
    )


def _answered(batch: Batch, event: ref.ParticipationConfirmed) -> None:
    """An answer ends its question's reminder and word to the guides; a citizen who stopped
    taking part is not asked again later."""
    weeks = [event.weeks_after]
    if not event.still_participating:
        weeks += [later for later in PARTICIPATION_WEEKS if later > event.weeks_after]
    batch.cancel(event.referral_id, participation_timer_keys(event.referral_id, weeks))
    batch.answered.append(participation_subject(event.referral_id, event.weeks_after))


# ---------------------------------------------------------------------------- catalogue stream


def on_catalogue(uow: UnitOfWork, pairs: list[Pair]) -> None:
    batch = Batch(uow.session, uow.now())
    communities = [event.community_id for _, event in pairs if isinstance(event, CATALOGUE_EVENTS)]
    batch.communities.load(batch.session, communities)
    for _, event in pairs:
        _apply_catalogue_event(batch, event)
    batch.save()


def _apply_catalogue_event(batch: Batch, event: Event) -> None:
    if not isinstance(event, CATALOGUE_EVENTS):
        return
    known = batch.communities.get(event.community_id)
    if isinstance(event, cat.CommunityRegistered):
        community = known or Community(event.community_id, event.name)
        community = _with_contact(replace(community, name=event.name, area=event.area), event.contact)
    elif isinstance(event, cat.CommunityUpdated):
        if known is None and event.name is None:
            return
        community = known or Community(event.community_id, event.name or "")
        if event.name is not None:
            community = replace(community, name=event.name)
        if event.area is not None:
            community = replace(community, area=event.area)
        if event.contact is not None:
            community = _with_contact(community, event.contact)
    elif known is None:
        return
    elif isinstance(event, cat.CommunityCapacityChanged):
        community = replace(known, has_room=event.status == "open" and event.available > 0)
    else:
        community = replace(known, archived=True)
    batch.communities.put(community.community_id, community)


def _with_contact(community: Community, contact: cat.WelcomeContact | None) -> Community:
    return replace(
        community,
        contact_name=contact.name if contact else None,
        contact_email=contact.email if contact else None,
        contact_phone=contact.phone if contact else None,
    )
