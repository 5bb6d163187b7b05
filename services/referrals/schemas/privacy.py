"""Bodies of the privacy endpoints: the audit log as the data protection officer searches it, a
citizen's access export (art. 15) and the retention job's counts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.referrals.audit import What
from services.referrals.schemas.people import CitizenOut
from services.referrals.schemas.referrals import TimelineOut
from shared.purposes import PurposeCode


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: str
    role: str
    service: str
    client: str | None = Field(description="The client the read came through (header X-Vejviser-Client)")
    citizen_ref: str
    referral_id: str | None
    what: What
    purpose: PurposeCode
    purpose_label: str = Field(description="The purpose in Danish")


class AuditPage(BaseModel):
    total: int = Field(description="Entries matching the filters, on every page")
    limit: int
    offset: int
    entries: list[AuditEntryOut] = Field(description="Newest first")


class ExportedContact(BaseModel):
    name: str | None
    phone: str | None
    email: str | None


class LonelinessScoreOut(BaseModel):
    moment: str
    score: int
    time: datetime


class ExportedReferral(BaseModel):
    referral_id: str
    community_id: str
    community_name: str | None
    referrer_id: str
    channel: str
    status: str
    needs_accompaniment: bool
    special_considerations: bool
    companion_id: str | None
    rejection_reason: str | None
    note: str | None = Field(description="The referrer's note, opened with the citizen's key")
    share_note_with_community: bool
    share_contact_with_community: bool
    visit_at: datetime | None
    welcomed_at: datetime | None
    participation: dict[str, bool] = Field(description="Weeks after the welcome: still taking part")
    loneliness: list[LonelinessScoreOut]
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineOut]


class ExportedBridge(BaseModel):
    from_community_id: str
    from_community_name: str | None
    to_referral_id: str
    time: datetime


class CitizenExport(BaseModel):
    """Everything the referrals service holds about one citizen."""

    citizen_ref: str
    exported_at: datetime
    record: CitizenOut
    contact: ExportedContact | None
    referrals: list[ExportedReferral]
    bridges: list[ExportedBridge]
    audit: list[AuditEntryOut] = Field(description="Who read the citizen's data, oldest first")
    summary_da: str = Field(description="The same in plain Danish, for the citizen (plain text, line breaks)")


class RetentionOut(BaseModel):
    run_on: date
    dry_run: bool
    months_after_end: int
    citizens_erased: int = Field(description="With dry_run: how many would be erased")
    referrals_cancelled: int
