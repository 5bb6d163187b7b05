"""Bodies of `/v1/referrals`, accompaniment requests, outreach and communities."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from services.referrals.domain import Status
from services.referrals.followup import LONELINESS_QUESTIONS
from services.referrals.schemas.common import AreaField, RefId
from services.referrals.schemas.common import In as _In
from shared.events.referrals import LonelinessMoment, OutreachKind, ReferralChannel, RejectionReason
from shared.privacy import FreeText

# ---------------------------------------------------------------------- referrals


class ReferralIn(_In):
    citizen_ref: RefId
    community_id: RefId
    referrer_id: RefId | None = Field(default=None, description="Defaults to the caller")
    needs_accompaniment: bool = False
    special_considerations: bool = False
    channel: ReferralChannel = "in_person"
    override_full: bool = False
    note: FreeText | None = Field(
        default=None,
        max_length=2000,
        description="Sealed with the citizen's key; read by the referrer, guides and admins (and, when shared, "
        "the community's contact and the companion); gone when the citizen is erased",
    )
    share_contact_with_community: bool = Field(
        default=False,
        description="The citizen agreed that the community and the companion see their first name and phone",
    )
    share_note_with_community: bool = Field(
        default=False,
        description="The community's contact and the arranged companion may read the note; only for a citizen "
        "whose consent is recorded",
    )


class CompanionIn(_In):
    companion_id: str


class AccompanyIn(_In):
    companion_id: str | None = Field(default=None, description="Defaults to the arranged companion")


class ParticipationIn(_In):
    weeks_after: Literal[4, 12]
    still_participating: bool


class RejectIn(_In):
    # No free text: it would be stored nowhere (a note about a citizen is sealed with their key
    # and only the referral's own note is), so a `note` here is refused, not silently dropped.
    reason: RejectionReason


class CancelIn(_In):
    """Nothing to say beyond the move itself (a `note` is refused, as with a rejection)."""


class VisitIn(_In):
    visit_at: AwareDatetime = Field(description="When the citizen is welcome the first time (ISO, with offset)")


class LonelinessIn(_In):
    moment: LonelinessMoment
    answers: list[int] = Field(
        max_length=10,
        description="Three answers, one per question in order: 1 rarely or never, 2 some of the time, 3 often. "
        + " / ".join(LONELINESS_QUESTIONS),
    )
    consent: bool = Field(description="The citizen agreed to answer (must be true)")


class SharedContactOut(BaseModel):
    """What the citizen agreed to share with the community and the companion."""

    first_name: str
    phone: str | None


class ReferralOut(BaseModel):
    referral_id: str
    citizen_ref: str
    community_id: str
    community_name: str | None
    referrer_id: str
    needs_accompaniment: bool
    special_considerations: bool
    channel: str
    note: str | None = Field(description="Only for those who may read it (else null)")
    share_note_with_community: bool = False
    status: Status
    allowed_actions: list[str]
    version: int
    companion_id: str | None
    rejection_reason: str | None
    participation: dict[str, bool]
    created_at: datetime
    updated_at: datetime
    welcome_url: str | None = None
    visit_at: datetime | None = None
    share_contact_with_community: bool = False
    shared_contact: SharedContactOut | None = None
    follow_up_due: int | None = Field(default=None, description="4 or 12: that follow-up is due and unanswered")
    loneliness: list[str] = Field(default_factory=list, description="Moments the loneliness measure was recorded")


class AccompanimentRequestOut(BaseModel):
    referral_id: str
    community_id: str
    community_name: str | None
    area: str | None
    area_label: str | None
    created_at: datetime
    special_considerations: bool
    visit_at: datetime | None
    status: Status
    state: Literal["open", "mine", "taken"]
    companion_id: str | None = Field(default=None, description="Only on your own (state mine)")
    shared_contact: SharedContactOut | None = Field(default=None, description="Only on your own (state mine)")


class TimelineOut(BaseModel):
    event_id: str
    type: str
    time: datetime
    time_local: str
    source: str
    status: str
    data: dict[str, object]


class RankedCompanionOut(BaseModel):
    actor_id: str
    name: str | None
    area: str | None
    area_label: str | None
    languages: list[str]
    score: float
    reasons: list[str]


class OutreachIn(_In):
    kind: OutreachKind
    count: int = Field(ge=1, le=100_000)
    area: FreeText | None = AreaField
    actor_id: str | None = Field(default=None, description="Defaults to the caller")


class OutreachOut(BaseModel):
    event_id: str
    time: datetime
    actor_id: str
    kind: str
    count: int
    area: str | None


class CommunityOut(BaseModel):
    community_id: str
    name: str
    area: str | None
    area_label: str | None
    kind: str
    categories: list[str]
    accepts_special_needs: bool
    capacity_status: str
    archived: bool
