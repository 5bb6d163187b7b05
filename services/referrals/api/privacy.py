"""Privacy: the audit log for the data protection officer (`/v1/audit`), a citizen's access
export (`/v1/citizens/{ref}/export`) and a retention run on demand (`/v1/retention/run`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Query

from services.referrals.api.deps import Admin, AnsweringAccess, Client, ForAccessRequest, Offset, Service, Supervising
from services.referrals.api.presenters import citizen_out, timeline_out
from services.referrals.audit import AuditEntry, AuditQuery, Reader, What
from services.referrals.schemas.privacy import (
    AuditEntryOut,
    AuditPage,
    CitizenExport,
    ExportedBridge,
    ExportedContact,
    ExportedReferral,
    LonelinessScoreOut,
    RetentionOut,
)
from services.referrals.service.export import Held, HeldReferral, summary_da
from shared.clock import COPENHAGEN
from shared.errors import Invalid
from shared.purposes import PurposeCode, label_da

router = APIRouter(tags=["privacy"])


def supervisor(principal: Supervising, client: Client = None) -> Reader:
    # `purpose` on this route filters the log, so the read is always supervision.
    return Reader.of(principal, "supervision", client)


Supervisor = Annotated[Reader, Depends(supervisor)]


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is read on the Copenhagen wall clock."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=COPENHAGEN)


@router.get("/v1/audit", summary="Search the audit log: who read which citizen's data, when and why")
def search(
    principal: Supervisor,
    service: Service,
    citizen_ref: Annotated[str | None, Query(max_length=100)] = None,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
    purpose: Annotated[PurposeCode | None, Query()] = None,
    start: Annotated[datetime | None, Query(alias="from", description="From this time (inclusive)")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Before this time (exclusive)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> AuditPage:
    start, end = _aware(start), _aware(end)
    if start is not None and end is not None and end <= start:
        raise Invalid("to: must be later than from", field="to")
    query = AuditQuery(citizen_ref, actor_id, purpose, start, end, limit, offset)
    found = service.audit_log.search(principal, query)
    return AuditPage(total=found.total, limit=limit, offset=offset, entries=[entry_out(e) for e in found.entries])


@router.get(
    "/v1/citizens/{citizen_ref}/export",
    summary="Everything held about a citizen, with a Danish summary (access request)",
    responses={410: {"description": "The citizen is erased: nothing is held any more"}},
)
def export(citizen_ref: str, _: AnsweringAccess, principal: ForAccessRequest, service: Service) -> CitizenExport:
    return export_out(service.exports.citizen(principal, citizen_ref))


@router.post("/v1/retention/run", summary="Erase the citizens past the retention limit now (as the nightly job)")
def run_retention(_: Admin, service: Service, dry_run: bool = False) -> RetentionOut:
    report = service.retention.run(dry_run=dry_run)
    return RetentionOut(
        run_on=report.run_on,
        dry_run=report.dry_run,
        months_after_end=report.months_after_end,
        citizens_erased=report.citizens_erased,
        referrals_cancelled=report.referrals_cancelled,
    )


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        role=entry.role,
        service=entry.service,
        client=entry.client,
        citizen_ref=entry.citizen_ref,
        referral_id=entry.referral_id,
        what=cast(What, entry.what),
        purpose=cast(PurposeCode, entry.purpose),
        purpose_label=label_da(entry.purpose),
    )


def _referral_out(held: HeldReferral) -> ExportedReferral:
    r = held.referral
    return ExportedReferral(
        referral_id=r.referral_id,
        community_id=r.community_id,
        community_name=held.community_name,
        referrer_id=r.referrer_id,
        channel=r.channel,
        status=r.status,
        needs_accompaniment=r.needs_accompaniment,
        special_considerations=r.special_considerations,
        companion_id=r.companion_id,
        rejection_reason=r.rejection_reason,
        note=held.note,
        share_note_with_community=r.share_note,
        share_contact_with_community=r.share_contact,
        visit_at=r.visit_at,
        welcomed_at=r.welcomed_at,
        participation=dict(r.participation or {}),
        loneliness=[LonelinessScoreOut(moment=s.moment, score=s.score, time=s.time) for s in held.loneliness],
        created_at=r.created_at,
        updated_at=r.updated_at,
        timeline=[timeline_out(t) for t in held.timeline],
    )


def export_out(held: Held) -> CitizenExport:
    contact = held.contact
    return CitizenExport(
        citizen_ref=held.record.citizen.citizen_ref,
        exported_at=held.at,
        record=citizen_out(held.record),
        contact=ExportedContact(name=contact.get("name"), phone=contact.get("phone"), email=contact.get("email"))
        if contact
        else None,
        referrals=[_referral_out(r) for r in held.referrals],
        bridges=[
            ExportedBridge(
                from_community_id=b.from_community_id,
                from_community_name=name,
                to_referral_id=b.to_referral_id,
                time=b.time,
            )
            for b, name in held.bridges
        ],
        audit=[entry_out(e) for e in held.audit],
        summary_da=summary_da(held),
    )
