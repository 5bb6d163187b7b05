"""Communities: register, change, report capacity, archive, look up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalogue.domain import (
    Capacity,
    ContactPerson,
    Schedule,
    check_capacity_reporter,
    check_contact_editor,
    check_kind_dates,
    decide_capacity,
)
from services.catalogue.schemas import CapacityIn, CommunityIn, CommunityPatch, ContactUpdate
from services.catalogue.service import changes
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import Community, pending_counts
from services.catalogue.views import CommunityOut, community_view
from shared.errors import Invalid
from shared.ids import new_id
from shared.principal import Principal
from shared.uow import UnitOfWork

# Fields of a request body that are columns as they are (contact and location are nested).
PLAIN_FIELDS = tuple(key for key in changes.COLUMNS if key in CommunityIn.model_fields)


def values_from(data: CommunityIn | CommunityPatch) -> dict[str, object]:
    """Columns from a request body (for a patch only the fields that were sent), with the
    area and categories checked against the profile."""
    sent = data.model_fields_set
    full = isinstance(data, CommunityIn)
    values: dict[str, object] = {key: getattr(data, key) for key in PLAIN_FIELDS if full or key in sent}
    if full or "contact" in sent:
        contact = data.contact
        values["contact_name"] = contact.name if contact else None
        values["contact_email"] = contact.email if contact else None
        values["contact_phone"] = contact.phone if contact else None
        values["contact_public"] = contact.public if contact else False
    if data.location is not None and (full or "location" in sent):
        values.update(data.location.model_dump())
    return changes.in_vocabulary(values, area_field="location.area", categories_field="categories")


def _capacity(data: CapacityIn) -> Capacity:
    return decide_capacity(data.total, data.available, data.status)


def _view(session: Session, community: Community) -> CommunityOut:
    session.flush()
    return community_view(community, pending_counts(session, [community.id]).get(community.id, 0))


def register(catalogue: Catalogue, data: CommunityIn, community_id: str | None = None) -> CommunityOut:
    def work(uow: UnitOfWork) -> CommunityOut:
        schedules = [s.to_domain() for s in data.schedules]
        capacity = _capacity(data.capacity) if data.capacity else None
        community, events = changes.register(
            uow.session, community_id or new_id(), values_from(data), schedules, capacity, uow.now()
        )
        uow.stage(*events)
        return _view(uow.session, community)

    return catalogue.runtime.write(work)


def update(catalogue: Catalogue, community_id: str, data: CommunityPatch) -> CommunityOut:
    def work(uow: UnitOfWork) -> CommunityOut:
        community = changes.get(uow.session, community_id)
        schedules: list[Schedule] | None = None
        if data.schedules is not None:
            schedules = [s.to_domain() for s in data.schedules]
        uow.stage(*changes.update(uow.session, community, values_from(data), schedules, uow.now()))
        try:
            check_kind_dates(community.kind, community.starts_on, community.ends_on)
        except ValueError as exc:
            raise Invalid(str(exc), field="ends_on" if community.starts_on else "starts_on") from None
        return _view(uow.session, community)

    return catalogue.runtime.write(work)


def report_capacity(catalogue: Catalogue, community_id: str, data: CapacityIn, principal: Principal) -> CommunityOut:
    check_capacity_reporter(principal, community_id)

    def work(uow: UnitOfWork) -> CommunityOut:
        community = changes.get(uow.session, community_id)
        # A contact answering "few seats" or "full" does not know (or restate) the total.
        total = data.total if "total" in data.model_fields_set else community.capacity_total
        capacity = decide_capacity(total, data.available, data.status)
        uow.stage(*changes.change_capacity(uow.session, community, capacity, uow.now()))
        return _view(uow.session, community)

    return catalogue.runtime.write(work)


def set_contact(
    catalogue: Catalogue, community_id: str, data: ContactUpdate | None, principal: Principal
) -> CommunityOut:
    """The contact person corrected (`data`) or removed (None) by themselves, a guide or an
    admin; publishes CommunityUpdated when it changed."""
    check_contact_editor(principal, community_id)
    person = ContactPerson(data.name, data.email, data.phone, data.public) if data else ContactPerson()

    def work(uow: UnitOfWork) -> CommunityOut:
        community = changes.get(uow.session, community_id)
        uow.stage(*changes.change_contact(uow.session, community, person, uow.now()))
        return _view(uow.session, community)

    return catalogue.runtime.write(work)


def archive(catalogue: Catalogue, community_id: str) -> CommunityOut:
    def work(uow: UnitOfWork) -> CommunityOut:
        community = changes.get(uow.session, community_id)
        uow.stage(*changes.archive(uow.session, community, uow.now()))
        return _view(uow.session, community)

    return catalogue.runtime.write(work)


def get(catalogue: Catalogue, community_id: str) -> CommunityOut:
    return catalogue.runtime.read(lambda session: _view(session, changes.get(session, community_id)))
