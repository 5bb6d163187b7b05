"""Organisations: register, change, archive, look up (associations, municipal units, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from services.catalogue.domain import hsds_id_for
from services.catalogue.schemas import OrganizationIn, OrganizationPatch
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import Organization, bump_revision, communities_of, organizations
from services.catalogue.views import OrganizationDetail, OrganizationOut, organization_view
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.uow import UnitOfWork

COLUMNS = ("name", "kind", "description", "email", "phone", "website")
Values = Mapping[str, str | None]


# ---------------------------------------------------------------------- inside a unit of work


def get(session: Session, organization_id: str) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"no organisation with id {organization_id!r}", field="organization_id")
    return org


def add(session: Session, organization_id: str, values: Values, now: datetime) -> Organization:
    if session.get(Organization, organization_id) is not None:
        raise Conflict(f"an organisation with id {organization_id!r} exists already")
    org = Organization(
        id=organization_id,
        hsds_id=hsds_id_for("organization", organization_id),
        created_at=now,
        updated_at=now,
        description="",
    )
    for key in COLUMNS:
        if key in values:
            setattr(org, key, values[key])
    session.add(org)
    session.flush()
    return org


def change(session: Session, org: Organization, values: Values, now: datetime) -> None:
    changed = False
    for key, value in values.items():
        if key in COLUMNS and getattr(org, key) != value:
            setattr(org, key, value)
            changed = True
    if changed:
        org.updated_at = now
        # The organisation's name is shown with each of its communities: let indexes catch up.
        for community in communities_of(session, org.id):
            community.revision = bump_revision(session)


# ---------------------------------------------------------------------- use cases


def create(catalogue: Catalogue, data: OrganizationIn, organization_id: str | None = None) -> OrganizationOut:
    def work(uow: UnitOfWork) -> OrganizationOut:
        return organization_view(add(uow.session, organization_id or new_id(), data.model_dump(), uow.now()))

    return catalogue.runtime.write(work)


def update(catalogue: Catalogue, organization_id: str, data: OrganizationPatch) -> OrganizationOut:
    def work(uow: UnitOfWork) -> OrganizationOut:
        org = get(uow.session, organization_id)
        change(uow.session, org, data.model_dump(exclude_unset=True), uow.now())
        return organization_view(org)

    return catalogue.runtime.write(work)


def archive(catalogue: Catalogue, organization_id: str) -> OrganizationOut:
    def work(uow: UnitOfWork) -> OrganizationOut:
        org = get(uow.session, organization_id)
        active = communities_of(uow.session, org.id, active_only=True)
        if active:
            raise Conflict(
                f"organisation {org.id!r} still has active communities (e.g. {active[0].id!r}); archive them first"
            )
        if org.archived_at is None:
            org.archived_at = org.updated_at = uow.now()
        return organization_view(org)

    return catalogue.runtime.write(work)


def detail(catalogue: Catalogue, organization_id: str) -> OrganizationDetail:
    def work(session: Session) -> OrganizationDetail:
        view = organization_view(get(session, organization_id))
        community_ids = [c.id for c in communities_of(session, organization_id)]
        return OrganizationDetail(**dict(view), community_ids=community_ids)

    return catalogue.runtime.read(work)


def listing(catalogue: Catalogue, include_archived: bool = False) -> list[OrganizationOut]:
    def work(session: Session) -> list[OrganizationOut]:
        return [organization_view(o) for o in organizations(session, include_archived=include_archived)]

    return catalogue.runtime.read(work)
