"""The catalogue's use cases: one transaction each, events through the outbox, and the
in-memory search index kept in step with the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.catalogue import commands
from services.catalogue.domain import (
    CATEGORIES,
    LOCAL_TZ,
    Capacity,
    Schedule,
    check_kind_dates,
    decide_capacity,
    page_count,
)
from services.catalogue.schemas import (
    CapacityIn,
    CommunityIn,
    CommunityPatch,
    NeedIn,
    NetworkMeetingIn,
    OrganizationIn,
    OrganizationPatch,
)
from services.catalogue.search import Filters, Hit, SearchIndex
from services.catalogue.store import (
    Community,
    NetworkMeeting,
    Organization,
    communities_changed_since,
    current_revision,
    ensure_revision,
    needs,
    pending_counts,
)
from services.catalogue.views import community_view, document_for, meeting_view, need_view, organization_view
from shared.auth import Principal
from shared.errors import Conflict, Invalid
from shared.events import Event
from shared.ids import new_id
from shared.runtime import Runtime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def community_values(data: CommunityIn | CommunityPatch) -> dict[str, Any]:
    """Columns from a request body; for a patch only the fields that were sent."""
    sent = data.model_fields_set
    values: dict[str, Any] = {}
    for key in commands.COMMUNITY_COLUMNS:
        if key in sent and key in type(data).model_fields:
            values[key] = getattr(data, key)
    if isinstance(data, CommunityIn) or "contact" in sent:
        contact = data.contact
        values["contact_name"] = contact.name if contact else None
        values["contact_email"] = contact.email if contact else None
        values["contact_phone"] = contact.phone if contact else None
    if data.location is not None and (isinstance(data, CommunityIn) or "location" in sent):
        loc = data.location
        values.update(
            place_name=loc.place_name,
            address=loc.address,
            postal_code=loc.postal_code,
            city=loc.city,
            area=loc.area,
            latitude=loc.latitude,
            longitude=loc.longitude,
        )
    if isinstance(data, CommunityIn):
        for key in (
            "organization_id",
            "name",
            "description",
            "categories",
            "kind",
            "languages",
            "accepts_special_needs",
            "accompaniment_welcome",
            "starts_on",
            "ends_on",
            "cost",
            "min_age",
            "max_age",
            "accessibility",
        ):
            values[key] = getattr(data, key)
    return values


def capacity_from(data: CapacityIn) -> Capacity:
    return decide_capacity(data.total, data.available, data.status)


class Catalogue:
    def __init__(self, runtime: Runtime, clock: Clock = utcnow) -> None:
        self.runtime = runtime
        self.clock = clock
        self.index = SearchIndex()

    @property
    def db(self) -> Any:
        return self.runtime.db

    def _write(self, work: Callable[[Session, datetime], tuple[Any, Sequence[Event]]]) -> Any:
        """Run `work` in one transaction, stage its events in the outbox, wake the relay."""
        now = self.clock()
        with self.db.transaction() as session:
            result, events = work(session, now)
            if events:
                self.runtime.stage(session, *events, time=now)
        self.runtime.committed()
        return result

    def prepare(self) -> None:
        with self.db.transaction() as session:
            ensure_revision(session)

    # ------------------------------------------------------------------ organisations

    def create_organization(self, data: OrganizationIn, organization_id: str | None = None) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            org = commands.create_organization(session, organization_id or new_id(), data.model_dump(), now)
            return organization_view(org), []

        return self._write(work)  # type: ignore[no-any-return]

    def update_organization(self, organization_id: str, data: OrganizationPatch) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            org = commands.get_organization(session, organization_id)
            commands.update_organization(session, org, data.model_dump(exclude_unset=True), now)
            return organization_view(org), []

        return self._write(work)  # type: ignore[no-any-return]

    def archive_organization(self, organization_id: str) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            org = commands.get_organization(session, organization_id)
            active = session.scalar(
                select(Community.id)
                .where(Community.organization_id == org.id, Community.archived_at.is_(None))
                .limit(1)
            )
            if active is not None:
                raise Conflict(
                    f"organisation {org.id!r} still has active communities (e.g. {active!r}); archive them first"
                )
            if org.archived_at is None:
                org.archived_at = org.updated_at = now
            return organization_view(org), []

        return self._write(work)  # type: ignore[no-any-return]

    def organization(self, organization_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            view = organization_view(commands.get_organization(session, organization_id))
            view["community_ids"] = list(
                session.scalars(
                    select(Community.id).where(Community.organization_id == organization_id).order_by(Community.name)
                )
            )
            return view

    def organizations(self, include_archived: bool = False) -> list[dict[str, Any]]:
        with self.db.transaction() as session:
            query = select(Organization).order_by(Organization.name)
            if not include_archived:
                query = query.where(Organization.archived_at.is_(None))
            return [organization_view(o) for o in session.scalars(query)]

    # ------------------------------------------------------------------ communities

    def register_community(self, data: CommunityIn, community_id: str | None = None) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            schedules = [s.to_domain() for s in data.schedules]
            capacity = capacity_from(data.capacity) if data.capacity else None
            c, events = commands.register_community(
                session, community_id or new_id(), community_values(data), schedules, capacity, now
            )
            return self._view(session, c), events

        return self._write(work)  # type: ignore[no-any-return]

    def update_community(self, community_id: str, data: CommunityPatch) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            c = commands.get_community(session, community_id)
            schedules: list[Schedule] | None = (
                [s.to_domain() for s in data.schedules] if data.schedules is not None else None
            )
            events = commands.update_community(session, c, community_values(data), schedules, now)
            try:
                check_kind_dates(c.kind, c.starts_on, c.ends_on)  # type: ignore[arg-type]
            except ValueError as exc:
                raise Invalid(str(exc), field="ends_on" if c.starts_on else "starts_on") from None
            return self._view(session, c), events

        return self._write(work)  # type: ignore[no-any-return]

    def change_capacity(self, community_id: str, data: CapacityIn) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            c = commands.get_community(session, community_id)
            events = commands.change_capacity(session, c, capacity_from(data), now)
            return self._view(session, c), events

        return self._write(work)  # type: ignore[no-any-return]

    def archive_community(self, community_id: str) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            c = commands.get_community(session, community_id)
            events = commands.archive_community(session, c, now)
            return self._view(session, c), events

        return self._write(work)  # type: ignore[no-any-return]

    def community(self, community_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            return self._view(session, commands.get_community(session, community_id))

    def _view(self, session: Session, c: Community) -> dict[str, Any]:
        session.flush()
        view = community_view(c)
        view["pending_referrals"] = pending_counts(session, [c.id]).get(c.id, 0)
        return view

    # ------------------------------------------------------------------ search

    def sync_index(self) -> None:
        """Bring this process's index up to the database's revision (usually a no-op)."""
        with self.db.read() as session:
            revision = current_revision(session)
            if revision == self.index.revision:
                return
            with self.index.lock:
                if revision == self.index.revision:
                    return
                for c in communities_changed_since(session, self.index.revision):
                    self.index.upsert(document_for(c))
                self.index.revision = revision

    def search_hits(self, query: str, filters: Filters) -> list[Hit]:
        self.sync_index()
        return self.index.search(query, filters)

    def search(self, query: str, filters: Filters, page: int, per_page: int) -> dict[str, Any]:
        hits = self.search_hits(query, filters)
        start = (page - 1) * per_page
        selected = hits[start : start + per_page]
        with self.db.read() as session:
            pending = pending_counts(session, [h.document.id for h in selected])
        items = []
        for hit in selected:
            item = dict(hit.document.summary)
            item["pending_referrals"] = pending.get(hit.document.id, 0)
            item["score"] = round(hit.score, 3)
            item["distance_km"] = round(hit.distance_km, 2) if hit.distance_km is not None else None
            items.append(item)
        return {
            "total": len(hits),
            "page": page,
            "per_page": per_page,
            "pages": page_count(len(hits), per_page),
            "items": items,
        }

    def categories(self) -> list[dict[str, Any]]:
        self.sync_index()
        counts: dict[str, int] = {}
        for doc in self.index.documents():
            if doc.active:
                for cid in doc.categories:
                    counts[cid] = counts.get(cid, 0) + 1
        return [
            {
                "id": c.id,
                "name_da": c.name_da,
                "name_en": c.name_en,
                "taxonomy_term_id": c.term_id,
                "communities": counts.get(c.id, 0),
            }
            for c in CATEGORIES
        ]

    # ------------------------------------------------------------------ needs and meetings

    def record_need(self, data: NeedIn, principal: Principal) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            need_id = new_id()
            recorded_on = data.recorded_on or now.astimezone(LOCAL_TZ).date()
            events = commands.record_need(
                session, need_id, data.area, data.category, data.description, principal.actor_id, recorded_on, now
            )
            return need_id, events

        need_id = self._write(work)
        return self.need(str(need_id))

    def need(self, need_id: str) -> dict[str, Any]:
        from services.catalogue.store import Need

        with self.db.read() as session:
            row = session.get(Need, need_id)
            assert row is not None
            return need_view(row)

    def needs(self, area: str | None, category: str | None, page: int, per_page: int) -> dict[str, Any]:
        with self.db.read() as session:
            total, rows = needs(session, area, category, per_page, (page - 1) * per_page)
            return {
                "total": total,
                "page": page,
                "per_page": per_page,
                "pages": page_count(total, per_page),
                "items": [need_view(n) for n in rows],
            }

    def hold_meeting(self, data: NetworkMeetingIn, principal: Principal) -> dict[str, Any]:
        def work(session: Session, now: datetime) -> tuple[Any, list[Event]]:
            meeting_id = new_id()
            events = commands.hold_meeting(
                session,
                meeting_id,
                data.held_on,
                data.topic,
                principal.actor_id,
                data.organization_ids,
                data.notes,
                now,
            )
            session.flush()
            row = session.get(NetworkMeeting, meeting_id)
            assert row is not None
            return meeting_view(row), events

        return self._write(work)  # type: ignore[no-any-return]

    def meetings(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            query = select(NetworkMeeting).order_by(NetworkMeeting.held_on.desc())
            return [meeting_view(m) for m in session.scalars(query)]
