"""The admin's import of another directory's HSDS 3.0 services, in one unit of work.

Each record is applied in its own savepoint: a broken record is reported (with the field and
the reason) and rolled back alone, the good ones commit together with their events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from services.catalogue.hsds_import import (
    HsdsService,
    ImportReport,
    RecordRejected,
    RecordResult,
    reason_for,
    schedules_from,
    values_from,
)
from services.catalogue.service import changes, organizations
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import Organization, community_by_hsds_id, organization_by_hsds_id
from shared.errors import DomainError
from shared.events import Event
from shared.privacy import CPR_MESSAGE, find_cpr
from shared.uow import UnitOfWork

Outcome = Literal["created", "updated", "unchanged"]


def _organization(session: Session, service: HsdsService, now: datetime) -> Organization:
    if service.organization is not None:
        sent = service.organization
        existing = organization_by_hsds_id(session, sent.id)
        values = {
            "name": sent.name,
            "description": sent.description or "",
            "email": sent.email,
            "website": sent.website,
        }
        if existing is None:
            return organizations.add(session, sent.id.lower(), {"kind": "association", **values}, now)
        organizations.change(session, existing, values, now)
        return existing
    if service.organization_id:
        existing = organization_by_hsds_id(session, service.organization_id)
        if existing is not None:
            return existing
        raise RecordRejected(
            f"organization_id: unknown organisation {service.organization_id}; include the organization object"
        )
    raise RecordRejected("organization: a service needs its organization (or a known organization_id)")


def import_record(session: Session, raw: object, now: datetime) -> tuple[RecordResult, list[Event]]:
    """Apply one HSDS service; raises RecordRejected/DomainError/ValidationError when it cannot."""
    service = HsdsService.model_validate(raw)
    cpr = find_cpr(raw)
    if cpr:
        raise RecordRejected(f"{cpr}: {CPR_MESSAGE}")
    warnings: list[str] = []
    organization = _organization(session, service, now)
    values = values_from(service, organization.id, warnings)
    schedules = schedules_from(service, warnings)
    community = community_by_hsds_id(session, service.id)
    status: Outcome
    if community is None:
        community, events = changes.register(session, service.id.lower(), values, schedules, None, now)
        status = "created"
    else:
        events = changes.update(session, community, values, schedules, now)
        status = "updated" if events else "unchanged"
    if service.status in ("inactive", "defunct"):
        events += changes.archive(session, community, now)
    return RecordResult(index=0, id=service.id, status=status, community_id=community.id, warnings=warnings), events


def _one(uow: UnitOfWork, index: int, raw: object) -> RecordResult:
    try:
        with uow.session.begin_nested():
            result, events = import_record(uow.session, raw, uow.now())
            uow.stage(*events)
    except (RecordRejected, DomainError, ValidationError, ValueError) as exc:
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        rejected_id = raw_id if isinstance(raw_id, str) else None
        return RecordResult(index=index, id=rejected_id, status="rejected", reason=reason_for(exc))
    return result.model_copy(update={"index": index})


def import_services(catalogue: Catalogue, records: list[object]) -> ImportReport:
    """Every record in its own savepoint; one commit for the good ones."""

    def work(uow: UnitOfWork) -> list[RecordResult]:
        return [_one(uow, index, raw) for index, raw in enumerate(records)]

    results = catalogue.runtime.write(work)
    statuses = [r.status for r in results]
    return ImportReport(
        created=statuses.count("created"),
        updated=statuses.count("updated"),
        unchanged=statuses.count("unchanged"),
        rejected=statuses.count("rejected"),
        results=results,
    )
