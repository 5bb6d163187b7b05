"""The catalogue service object: the runtime and this process's search index."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalogue.domain import is_free, shown
from services.catalogue.search import Document, Filters, Hit, SearchIndex
from services.catalogue.store import Community, communities_changed_since, current_revision, ensure_revision
from services.catalogue.views import community_view
from shared.danish import WEEKDAYS as WEEKDAYS_DA
from shared.profile import profile
from shared.runtime import Runtime


class Catalogue:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.index = SearchIndex()

    def prepare(self) -> None:
        self.runtime.write(lambda uow: ensure_revision(uow.session))

    def sync_index(self) -> None:
        """Bring this process's index up to the database's revision (usually a no-op)."""
        self.runtime.read(self._catch_up)

    def _catch_up(self, session: Session) -> None:
        revision = current_revision(session)
        if revision == self.index.revision:
            return
        with self.index.lock:
            if revision == self.index.revision:
                return
            for community in communities_changed_since(session, self.index.revision):
                self.index.upsert(document_for(community))
            self.index.revision = revision

    def search_hits(self, query: str, filters: Filters) -> list[Hit]:
        self.sync_index()
        return self.index.search(query, filters)


def document_for(community: Community) -> Document:
    """The search index's view of a community: its words with their Danish labels."""
    view = community_view(community)
    vocabulary = profile()
    category_text = " ".join(f"{code} {vocabulary.category.label(code)}" for code in community.categories)
    weekdays = {row.weekday for row in community.schedules}
    schedule_text = " ".join(WEEKDAYS_DA[day] for day in sorted(weekdays) if day in WEEKDAYS_DA)
    area_text = [vocabulary.area.label(community.area), community.city, community.place_name]
    return Document(
        id=community.id,
        name=community.name,
        fields={
            "name": community.name,
            "category": category_text,
            "area": " ".join(filter(None, area_text)),
            "description": " ".join(filter(None, [community.description, community.organization.name, schedule_text])),
        },
        categories=frozenset(community.categories),
        area=community.area,
        kind=community.kind,
        organization_id=community.organization_id,
        accepts_special_needs=community.accepts_special_needs,
        open_seats=view.capacity.open_seats,
        weekdays=frozenset(weekdays),
        lat=community.latitude,
        lon=community.longitude,
        active=community.archived_at is None,
        modified_at=shown(community.updated_at),
        summary=view,
        hsds_id=community.hsds_id,
        free=is_free(community.cost),
        accompaniment_welcome=community.accompaniment_welcome,
        contact_email=(community.contact_email or "").strip().lower(),
    )
