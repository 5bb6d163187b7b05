"""Queries about referrers over the referrals service's tables: the directory of referrers,
their trainings and referral counts, and who can go along as a companion.

Apart from `store.py`, whose queries answer about referrals: these answer about the people
who refer, for the referrer directory and the companion ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from services.referrals.domain import Status
from services.referrals.tables import Community, Referral, Referrer, TimelineEntry, Training


def trainings_of(session: Session, actor_ids: Sequence[str]) -> dict[str, list[Training]]:
    if not actor_ids:
        return {}
    query = select(Training).where(Training.actor_id.in_(set(actor_ids)))
    found: dict[str, list[Training]] = {}
    for row in session.scalars(query.order_by(Training.trained_on, Training.event_id)):
        found.setdefault(row.actor_id, []).append(row)
    return found


def referral_counts(session: Session, actor_ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
    """How many referrals each referrer made, and when the last one was."""
    if not actor_ids:
        return {}
    query = (
        select(Referral.referrer_id, func.count(), func.max(Referral.created_at))
        .where(Referral.referrer_id.in_(set(actor_ids)))
        .group_by(Referral.referrer_id)
    )
    return {actor: (count, last) for actor, count, last in session.execute(query).tuples()}


def companion_candidates(session: Session, month_start: datetime) -> list[tuple[Referrer, set[str], int]]:
    """Referrers who offer accompaniment, with the categories they accompanied to before and
    how many accompaniments they have this month."""
    referrers = list(session.scalars(select(Referrer).where(Referrer.offers_accompaniment.is_(True))))
    if not referrers:
        return []
    ids = [r.actor_id for r in referrers]
    rows = session.execute(
        select(Referral.companion_id, Referral.updated_at, Community.categories)
        .join(Community, Community.community_id == Referral.community_id, isouter=True)
        .where(
            Referral.companion_id.in_(ids),
            Referral.status.in_(
                [
                    Status.accompaniment_arranged.value,
                    Status.accompanied.value,
                    Status.welcomed.value,
                    Status.participating.value,
                    Status.ended.value,
                ]
            ),
        )
    ).all()
    categories: dict[str, set[str]] = {i: set() for i in ids}
    this_month: dict[str, int] = dict.fromkeys(ids, 0)
    # Accompaniments this month are counted from the timeline (the arrangement's event time).
    arranged = session.execute(
        select(Referral.companion_id, func.count())
        .select_from(TimelineEntry)
        .join(Referral, Referral.referral_id == TimelineEntry.referral_id)
        .where(
            TimelineEntry.event_type.in_(["AccompanimentArranged", "CitizenAccompanied"]),
            TimelineEntry.time >= month_start,
            Referral.companion_id.in_(ids),
        )
        .group_by(Referral.companion_id, Referral.referral_id)
    ).all()
    for companion_id, _count in arranged:
        if companion_id is not None:
            this_month[companion_id] += 1
    for companion_id, _at, cats in rows:
        if companion_id is not None:
            categories[companion_id].update(cats or [])
    return [(r, categories[r.actor_id], this_month[r.actor_id]) for r in referrers]


def list_referrers(
    session: Session,
    *,
    role: str | None = None,
    area: str | None = None,
    activated_by: str | None = None,
    offers_accompaniment: bool | None = None,
    email: str | None = None,
    readiness: str | None = None,
    has_referred: bool | None = None,
) -> list[Referrer]:
    query = select(Referrer).order_by(Referrer.activated_at, Referrer.actor_id)
    if email:
        query = query.where(func.lower(Referrer.contact_email) == email.strip().lower())
    if readiness:
        query = query.where(Referrer.readiness == readiness)
    if has_referred is not None:
        referred = exists().where(Referral.referrer_id == Referrer.actor_id)
        query = query.where(referred if has_referred else ~referred)
    if role:
        query = query.where(Referrer.role == role)
    if area:
        query = query.where(Referrer.area == area)
    if activated_by:
        query = query.where(Referrer.activated_by == activated_by)
    if offers_accompaniment is not None:
        query = query.where(Referrer.offers_accompaniment.is_(offers_accompaniment))
    return list(session.scalars(query))
