"""Applying a referral's own events: its creation, its lifecycle moves (with optimistic
locking), a bridge out of a practice track, and the timeline row every one of them leaves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from services.referrals import domain, intake
from services.referrals.service.batch import Seen, get_citizen, get_referral, get_referrer
from services.referrals.service.bulk import Bulk, Row, append, change_new_row, new_row, table_of
from services.referrals.store import StaleReferral, save_state, state_values
from services.referrals.tables import Bridge, Community, Referral, TimelineEntry
from shared.errors import Conflict, Invalid
from shared.events import Envelope, Event
from shared.events.referrals import AccompanimentArranged, CitizenAccompanied, CitizenBridged, ReferralCreated

TIMELINE = table_of(TimelineEntry)


@dataclass(frozen=True)
class Details:
    """What a referral holds beyond its event (never published): the note, sealed with the
    citizen's key by the use case, and what the citizen agreed to share."""

    override_full: bool
    note_ciphertext: bytes | None = None
    share_contact: bool = False
    share_note: bool = False


def create_referral(session: Session, envelope: Envelope, event: ReferralCreated, details: Details) -> Referral:
    seen = Seen.of(session)
    if seen.get(Referral, event.referral_id) is not None:
        raise Conflict(f"referral {event.referral_id!r} already exists")
    get_citizen(session, event.citizen_ref)
    get_referrer(session, event.referrer_id)
    community = seen.get(Community, event.community_id)
    intake.check_community_open(
        event.community_id,
        known=community is not None,
        archived=bool(community and community.archived),
        capacity_status=community.capacity_status if community else None,
        override_full=details.override_full,
    )
    referral = new_row(
        Referral,
        referral_id=event.referral_id,
        citizen_ref=event.citizen_ref,
        community_id=event.community_id,
        referrer_id=event.referrer_id,
        needs_accompaniment=event.needs_accompaniment,
        special_considerations=event.special_considerations,
        channel=event.channel,
        note_ciphertext=details.note_ciphertext,
        share_note=details.share_note,
        override_full=details.override_full,
        status=domain.Status.requested.value,
        version=1,
        companion_id=None,
        rejection_reason=None,
        participation={},
        last_follow_up=None,
        share_contact=details.share_contact,
        visit_at=None,
        arranged_at=None,
        welcomed_at=None,
        created_at=envelope.time,
        updated_at=envelope.time,
    )
    seen.add(referral)
    _timeline(session, envelope, event, referral.referral_id, domain.Status.requested)
    return referral


def move(session: Session, envelope: Envelope, event: Event, referral: Referral | None = None) -> Referral:
    """A lifecycle transition. A referral created in this unit of work and not yet flushed is
    nobody else's yet, so it changes in memory; a stored one with optimistic locking."""
    if type(event) not in domain.EVENT_OF_ACTION.values():
        raise ValueError(f"type: {envelope.type} cannot be applied by the referrals service")
    referral_id: str = getattr(event, "referral_id")  # noqa: B009 - every transition event has it
    referral = referral or get_referral(session, referral_id)
    if isinstance(event, AccompanimentArranged | CitizenAccompanied):
        get_referrer(session, event.companion_id, field="companion_id")
    new_state = domain.transition(referral.state(), event, envelope.time)
    if not inspect(referral).persistent:
        change_new_row(referral, state_values(new_state, referral.version + 1))
    else:
        try:
            save_state(session, referral, new_state)
        except StaleReferral:
            session.refresh(referral)
            current = referral.state()
            if isinstance(event, AccompanimentArranged):  # lost the race to take it: say so
                domain.check_not_taken(current, event.companion_id)
            raise Conflict(
                "the referral was changed by someone else at the same moment; reload it and try again",
                status=current.status.value,
                allowed=[a.value for a in domain.allowed_actions_for(current)],
            ) from None
    _timeline(session, envelope, event, referral_id, new_state.status)
    return referral


def note_on_timeline(
    session: Session, envelope: Envelope, event: Event, referral: Referral, data: dict[str, object]
) -> None:
    """A referral's event that is no move (a measure), with only the `data` it may show."""
    _timeline(session, envelope, event, referral.referral_id, domain.Status(referral.status), data)


def bridge(session: Session, envelope: Envelope, event: CitizenBridged) -> None:
    Bulk.of(session).write(session)  # the checks below query referrals and bridges, new ones included
    session.flush()
    get_citizen(session, event.citizen_ref)
    track = Seen.of(session).get(Community, event.from_community_id)
    if track is None or track.kind != "practice_track":
        raise Invalid(
            f"from_community_id: {event.from_community_id!r} is not a practice track known to the referrals "
            "service; a citizen is bridged from a practice track into a lasting community",
            field="from_community_id",
        )
    target = Seen.of(session).get(Referral, event.to_referral_id)
    if target is None or target.citizen_ref != event.citizen_ref:
        raise Invalid(
            f"to_referral_id: {event.to_referral_id!r} is not a referral of citizen {event.citizen_ref!r}",
            field="to_referral_id",
        )
    if target.community_id == event.from_community_id:
        raise Invalid("to_referral_id: the bridge must lead out of the practice track", field="to_referral_id")
    from_track = select(Referral.referral_id).where(
        Referral.citizen_ref == event.citizen_ref, Referral.community_id == event.from_community_id
    )
    if session.scalar(from_track.limit(1)) is None:
        raise Invalid(
            f"from_community_id: citizen {event.citizen_ref!r} was never referred to {event.from_community_id!r}",
            field="from_community_id",
        )
    if session.scalar(select(Bridge.event_id).where(Bridge.to_referral_id == event.to_referral_id)) is not None:
        raise Conflict(f"referral {event.to_referral_id!r} is already recorded as a bridge")
    row = new_row(Bridge, event_id=envelope.id, citizen_ref=event.citizen_ref, to_referral_id=event.to_referral_id)
    row.from_community_id, row.time = event.from_community_id, envelope.time
    Bulk.of(session).add(session, row)


def _timeline(
    session: Session,
    envelope: Envelope,
    event: Event,
    referral_id: str,
    status: domain.Status,
    data: dict[str, object] | None = None,
) -> None:
    if data is None:
        data = {k: v for k, v in event.model_dump(mode="json").items() if k != "referral_id"}
    entry: Row = {"referral_id": referral_id, "event_id": envelope.id, "event_type": type(event).__name__}
    entry.update(source=envelope.source, time=envelope.time, status=status.value, data=data)
    append(session, TIMELINE, entry)
