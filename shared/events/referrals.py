"""Events of the referrals context: the cascade's actors, citizens and referrals.

Citizens appear only as a pseudonymous `citizen_ref`; no name, phone or e-mail of a citizen
ever travels in an event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import MAX_INT, Code, Event, Id, Ref, register

Role = Literal["guide", "professional", "ambassador"]
ReadinessLevel = Literal["aware", "trained", "referring", "accompanying"]
ReferralChannel = Literal["in_person", "postcard", "website", "phone", "system"]
RejectionReason = Literal["full", "not_suitable", "no_contact", "other"]
OutreachKind = Literal["postcards", "website_visit", "info_meeting", "door_to_door"]
# When the three-item UCLA loneliness scale was asked: at the referral, or at the 12-week follow-up.
LonelinessMoment = Literal["referral", "week_12"]
# Why a referral was cancelled: withdrawn by a person, or closed because its citizen was erased
# (on request or by the retention job); the latter must never be followed by a message.
CancelReason = Literal["withdrawn", "erased"]
# The age bands a citizen's age is given in (the referrals API's and ingestion's rule; the field
# stays a string so that events from before the rule still parse).
AgeBand = Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)


class WorkContact(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class _Actor(Event):
    context: ClassVar[str] = "referrals"
    aggregate: ClassVar[str] = "actor_id"


class _Referral(Event):
    context: ClassVar[str] = "referrals"
    aggregate: ClassVar[str] = "referral_id"


class _Citizen(Event):
    context: ClassVar[str] = "referrals"
    aggregate: ClassVar[str] = "citizen_ref"


class ReferrerActivated(_Actor):
    actor_id: Id
    role: Role
    sector: Code | None = None
    organization: str | None = Field(default=None, max_length=200)
    area: Code | None = None
    activated_by: Ref | None = None
    offers_accompaniment: bool = False
    contact: WorkContact | None = None
    citizen_ref: Id | None = None
    name: str | None = Field(default=None, max_length=200)  # a referrer's work name is directory data
    languages: list[Code] = Field(default_factory=list, max_length=20)


class ReadinessRecorded(_Actor):
    actor_id: Id
    level: ReadinessLevel


class TrainingRecorded(_Actor):
    """A guide trained a referrer (the topic is a code of the profile's training topics)."""

    actor_id: Id
    trained_on: date
    topic: Code


class CitizenRegistered(_Citizen):
    """A citizen's pseudonymous registration; the attributes (given with consent) are codes.
    They are special-category data: the message expires (shared/stream_retention.py) and is
    purged when the citizen is erased."""

    attributes_of: ClassVar[str | None] = "citizen_ref"
    citizen_ref: Id
    age_band: Code | None = None
    area: Code | None = None
    target_groups: list[Code] = Field(default_factory=list, max_length=20)


class ReferralCreated(_Referral):
    referral_id: Id
    citizen_ref: Id
    community_id: Id
    referrer_id: Id
    needs_accompaniment: bool = False
    special_considerations: bool = False
    channel: ReferralChannel = "in_person"


class ReferralAccepted(_Referral):
    referral_id: Id


class AccompanimentArranged(_Referral):
    referral_id: Id
    companion_id: Id


class CitizenAccompanied(_Referral):
    referral_id: Id
    companion_id: Id


class WelcomeConfirmed(_Referral):
    referral_id: Id
    community_id: Id
    confirmed_by: Ref


class ParticipationConfirmed(_Referral):
    referral_id: Id
    weeks_after: int = Field(ge=1, le=MAX_INT)
    still_participating: bool


class FirstVisitProposed(_Referral):
    """The community proposes when the citizen comes the first time (shown to the referrer
    and the companion). The referral keeps its status; a new proposal replaces the last."""

    referral_id: Id
    visit_at: datetime
    proposed_by: Ref


class NoShowReported(_Referral):
    """ "Kom ikke": the citizen did not come. The referral ends (status `no_show`); the
    referrer is told and may refer again."""

    referral_id: Id
    reported_by: Ref


class ReferralRejected(_Referral):
    referral_id: Id
    reason: RejectionReason


class ReferralCancelled(_Referral):
    referral_id: Id
    reason: CancelReason = "withdrawn"


class CitizenBridged(_Citizen):
    citizen_ref: Id
    from_community_id: Id
    to_referral_id: Id


class OutreachRecorded(_Actor):
    actor_id: Id
    kind: OutreachKind
    count: int = Field(ge=1, le=MAX_INT)
    area: Code | None = None


class LonelinessMeasured(_Referral):
    """The three-item UCLA loneliness scale, asked with the citizen's consent, as its sum
    (3 = never lonely … 9 = often lonely on all three). Only the sum travels, never the
    answers; the citizen only as their pseudonymous reference. The message expires and is
    purged with its citizen (shared/stream_retention.py)."""

    attributes_of: ClassVar[str | None] = "citizen_ref"
    referral_id: Id
    moment: LonelinessMoment
    score: int = Field(ge=3, le=9)
    # The referral's citizen, so that erasing them purges the score from the stream (it ends
    # the subject). Consumers know the pairing from ReferralCreated already.
    citizen_ref: Id | None = None


class CitizenErased(_Citizen):
    citizen_ref: Id


class RetentionApplied(Event):
    """The nightly retention job's counts: what it did, never whom it did it to."""

    context: ClassVar[str] = "referrals"
    aggregate: ClassVar[str] = "run_on"
    run_on: date
    citizens_erased: int = Field(ge=0, le=MAX_INT)
    referrals_cancelled: int = Field(ge=0, le=MAX_INT)


register(
    ReferrerActivated,
    ReadinessRecorded,
    TrainingRecorded,
    CitizenRegistered,
    ReferralCreated,
    ReferralAccepted,
    AccompanimentArranged,
    CitizenAccompanied,
    WelcomeConfirmed,
    ParticipationConfirmed,
    FirstVisitProposed,
    NoShowReported,
    ReferralRejected,
    ReferralCancelled,
    CitizenBridged,
    OutreachRecorded,
    LonelinessMeasured,
    CitizenErased,
    RetentionApplied,
)
