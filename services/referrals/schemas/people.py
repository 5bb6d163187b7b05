"""Bodies of `/v1/referrers` and `/v1/citizens`."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from services.referrals.cascade import Readiness
from services.referrals.schemas.common import AreaField, Email, RefId, codes
from services.referrals.schemas.common import In as _In
from shared.privacy import FreeText
from shared.profile import profile

# ---------------------------------------------------------------------- referrers


class WorkContactIn(_In):
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=30)


class ReferrerIn(_In):
    actor_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    role: Literal["guide", "professional", "ambassador"]
    name: FreeText | None = Field(default=None, max_length=200)
    sector: str | None = Field(default=None, max_length=100, json_schema_extra=codes("sector", profile().sector.codes))
    organization: FreeText | None = Field(default=None, max_length=200)
    area: FreeText | None = AreaField
    languages: list[str] = Field(default_factory=list, max_length=20)
    offers_accompaniment: bool = False
    contact: WorkContactIn | None = None
    activated_by: str | None = Field(
        default=None, description="Who trained or recruited them; defaults to the caller when the caller is a referrer"
    )
    citizen_ref: RefId | None = Field(
        default=None, description="Only for an ambassador who was once a referred citizen"
    )
    readiness: Readiness | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.role == "professional" and self.sector is None:
            raise ValueError("a professional needs a sector, e.g. job_centre, library or gp")
        if self.role != "professional" and self.sector is not None:
            raise ValueError("only professionals have a sector")
        if self.citizen_ref and self.role != "ambassador":
            raise ValueError("only an ambassador can be a citizen who was once referred (citizen_ref)")
        return self


class ReadinessIn(_In):
    level: Readiness


class TrainingIn(_In):
    trained_on: dt.date
    topic: str = Field(
        max_length=64, json_schema_extra=codes("training topic", tuple(t.code for t in profile().training_topics))
    )


class TrainingOut(BaseModel):
    trained_on: dt.date
    topic: str
    topic_label: str


class WorkContactOut(BaseModel):
    email: str | None
    phone: str | None


class ReferrerOut(BaseModel):
    actor_id: str
    role: str
    name: str | None
    sector: str | None
    sector_label: str | None
    organization: str | None
    area: str | None
    area_label: str | None
    languages: list[str]
    offers_accompaniment: bool
    contact: WorkContactOut
    activated_by: str | None
    activated_at: datetime
    was_referred_citizen: bool
    readiness: str | None
    trainings: list[TrainingOut] = Field(default_factory=list)
    referral_count: int = 0
    last_referral_at: datetime | None = None


# ---------------------------------------------------------------------- citizens


class ContactIn(_In):
    name: FreeText | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    email: Email | None = None


class ConsentIn(_In):
    purpose: FreeText | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="Why it is recorded; the programme's purpose if left out",
    )
    date: dt.date | None = Field(default=None, description="When consent was given; today if left out")


class CitizenIn(_In):
    contact: ContactIn | None = None
    consent: ConsentIn | None = None
    age_band: Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"] | None = None
    area: FreeText | None = AreaField
    target_groups: list[str] = Field(
        default_factory=list, max_length=20, json_schema_extra={"items": {"enum": list(profile().target_group.codes)}}
    )
    languages: list[str] = Field(default_factory=list, max_length=20)


class ConsentOut(BaseModel):
    purpose: str
    date: str | None
    recorded_by: str | None


class CitizenOut(BaseModel):
    citizen_ref: str
    age_band: str | None
    area: str | None
    area_label: str | None
    target_groups: list[str]
    target_group_labels: list[str]
    languages: list[str]
    consent: ConsentOut | None
    has_contact: bool
    registered_at: datetime
    erased: bool


class ContactOut(BaseModel):
    citizen_ref: str
    name: str | None
    phone: str | None
    email: str | None


class AuditOut(BaseModel):
    actor_id: str
    role: str
    what: str
    purpose: str
    at: datetime


class ErasedOut(BaseModel):
    citizen_ref: str
    erased_at: datetime
    referrals_cancelled: int = Field(description="Open referrals cancelled with reason `erased`")


class BridgeIn(_In):
    from_community_id: RefId
    to_referral_id: RefId


class BridgeOut(BaseModel):
    event_id: str
    citizen_ref: str
    from_community_id: str
    to_referral_id: str
