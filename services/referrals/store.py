"""Queries of the referrals service over its tables (`tables.py`); those about referrers (the
directory, their trainings, who can go along as a companion) are in `referrer_store.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.referrals import followup
from services.referrals.access import REQUEST_STATUSES
from services.referrals.domain import ACCOMPANYING, AWAITING, FOLLOW_UP_WEEKS, ReferralState, Status
from services.referrals.tables import (
    AccompanimentDecline,
    Bridge,
    Community,
    Loneliness,
    Referral,
    Referrer,
    TimelineEntry,
)


def state_values(state: ReferralState, version: int) -> dict[str, object]:
    return {
        "status": state.status.value,
        "companion_id": state.companion_id,
        "rejection_reason": state.rejection_reason,
        "participation": {str(weeks): still for weeks, still in state.participation.items()},
        "last_follow_up": followup.last_follow_up(state.participation),
        "visit_at": state.visit_at,
        "arranged_at": state.arranged_at,
        "welcomed_at": state.welcomed_at,
        "updated_at": state.updated_at,
        "version": version,
    }


class StaleReferral(Exception):
    """Someone else changed the referral between our read and our write."""


def save_state(session: Session, referral: Referral, state: ReferralState) -> None:
    """Write a transition with optimistic locking: `UPDATE … WHERE version = :read_version`.

    Exactly one of two concurrent transitions matches the version it read; the other's
    UPDATE matches no row (on PostgreSQL it waits for the winner's commit, then re-checks
    the WHERE clause), and it gives up with StaleReferral.
    """
    read_version = referral.version
    values = state_values(state, read_version + 1)
    result = session.execute(
        update(Referral)
        .where(Referral.referral_id == referral.referral_id, Referral.version == read_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleReferral(referral.referral_id)
    # The row now holds these values: set them as loaded, so the object needs no re-read.
    for name, value in values.items():
        set_committed_value(referral, name, value)


def list_referrals(
    session: Session,
    *,
    status: Sequence[str] = (),
    referrer_id: str | None = None,
    community_ids: Sequence[str] | None = None,
    citizen_ref: str | None = None,
    visible_to_actor: str | None = None,
    overdue_days: int | None = None,
    follow_up_overdue: bool = False,
    now: datetime,
    limit: int = 200,
    offset: int = 0,
) -> list[Referral]:
    query = select(Referral)
    if status:
        query = query.where(Referral.status.in_(list(status)))
    if referrer_id:
        query = query.where(Referral.referrer_id == referrer_id)
    if community_ids is not None:
        query = query.where(Referral.community_id.in_(list(community_ids)))
    if citizen_ref:
        query = query.where(Referral.citizen_ref == citizen_ref)
    if visible_to_actor:
        query = query.where((Referral.referrer_id == visible_to_actor) | (Referral.companion_id == visible_to_actor))
    if overdue_days is not None:
        cutoff = now - timedelta(days=overdue_days)
        query = query.where(Referral.status.in_([s.value for s in AWAITING]), Referral.updated_at <= cutoff)
    if follow_up_overdue:
        query = query.where(_follow_up_overdue(now))
    query = query.order_by(Referral.created_at.desc(), Referral.referral_id).limit(limit).offset(offset)
    return list(session.scalars(query))


def _follow_up_overdue(now: datetime) -> ColumnElement[bool]:
    """SQL for `followup.follow_up_overdue`: a follow-up week passed more than the grace ago
    and nothing at or after it answered."""
    late = [
        and_(
            Referral.welcomed_at <= now - timedelta(weeks=weeks) - followup.FOLLOW_UP_GRACE,
            func.coalesce(Referral.last_follow_up, 0) < weeks,
        )
        for weeks in FOLLOW_UP_WEEKS
    ]
    return and_(Referral.status.in_([s.value for s in followup.FOLLOWED_UP]), or_(*late))


def accompaniment_requests(
    session: Session, *, actor_id: str | None, taken_since: datetime
) -> list[tuple[Referral, Community | None]]:
    """Referrals waiting for a companion, and for `actor_id` also those they accompany and
    those taken since `taken_since` (the rules in `access.py` sort out whose is which)."""
    asks = Referral.needs_accompaniment.is_(True)
    waiting = and_(asks, Referral.status.in_([s.value for s in REQUEST_STATUSES]), Referral.companion_id.is_(None))
    wanted = [waiting]
    if actor_id is not None:
        mine = [s.value for s in (*ACCOMPANYING, Status.welcomed)]
        wanted.append(and_(Referral.companion_id == actor_id, Referral.status.in_(mine)))
        wanted.append(and_(asks, Referral.companion_id.is_not(None), Referral.arranged_at >= taken_since))
    query = (
        select(Referral, Community)
        .join(Community, Community.community_id == Referral.community_id, isouter=True)
        .where(or_(*wanted))
        .order_by(Referral.created_at, Referral.referral_id)
    )
    return [(referral, community) for referral, community in session.execute(query).tuples()]


def declined_by(session: Session, actor_id: str, referral_ids: Sequence[str]) -> set[str]:
    if not referral_ids:
        return set()
    query = select(AccompanimentDecline.referral_id).where(
        AccompanimentDecline.actor_id == actor_id, AccompanimentDecline.referral_id.in_(set(referral_ids))
    )
    return set(session.scalars(query))


def loneliness_moments(session: Session, referral_ids: Sequence[str]) -> dict[str, list[str]]:
    if not referral_ids:
        return {}
    query = select(Loneliness.referral_id, Loneliness.moment).where(Loneliness.referral_id.in_(set(referral_ids)))
    found: dict[str, list[str]] = {}
    for referral_id, moment in session.execute(query.order_by(Loneliness.time)).tuples():
        found.setdefault(referral_id, []).append(moment)
    return found


def community_names(session: Session, community_ids: Sequence[str]) -> dict[str, str]:
    if not community_ids:
        return {}
    rows = session.execute(
        select(Community.community_id, Community.name).where(Community.community_id.in_(set(community_ids)))
    )
    return dict(rows.tuples().all())


def list_communities(session: Session, *, include_archived: bool) -> list[Community]:
    query = select(Community).order_by(Community.name)
    if not include_archived:
        query = query.where(Community.archived.is_(False))
    return list(session.scalars(query))


def has_referred(session: Session, actor_id: str, citizen_ref: str) -> bool:
    found = session.scalar(
        select(Referral.referral_id)
        .where(Referral.citizen_ref == citizen_ref, Referral.referrer_id == actor_id)
        .limit(1)
    )
    return found is not None


def timeline_of(session: Session, referral_id: str) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.referral_id == referral_id)
    return list(session.scalars(query.order_by(TimelineEntry.time, TimelineEntry.id)))


def referrals_of(session: Session, citizen_ref: str) -> list[Referral]:
    query = select(Referral).where(Referral.citizen_ref == citizen_ref)
    return list(session.scalars(query.order_by(Referral.created_at, Referral.referral_id)))


def timelines_of(session: Session, referral_ids: Sequence[str]) -> dict[str, list[TimelineEntry]]:
    if not referral_ids:
        return {}
    query = select(TimelineEntry).where(TimelineEntry.referral_id.in_(set(referral_ids)))
    found: dict[str, list[TimelineEntry]] = {}
    for entry in session.scalars(query.order_by(TimelineEntry.time, TimelineEntry.id)):
        found.setdefault(entry.referral_id, []).append(entry)
    return found


def loneliness_of(session: Session, referral_ids: Sequence[str]) -> dict[str, list[Loneliness]]:
    """The loneliness scores recorded, by referral, in the order they were measured."""
    if not referral_ids:
        return {}
    query = select(Loneliness).where(Loneliness.referral_id.in_(set(referral_ids)))
    found: dict[str, list[Loneliness]] = {}
    for row in session.scalars(query.order_by(Loneliness.time)):
        found.setdefault(row.referral_id, []).append(row)
    return found


def bridges_of(session: Session, citizen_ref: str) -> list[Bridge]:
    query = select(Bridge).where(Bridge.citizen_ref == citizen_ref)
    return list(session.scalars(query.order_by(Bridge.time, Bridge.event_id)))


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Referrer)) == 0


def community_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Community).where(Community.archived.is_(False))) or 0)
