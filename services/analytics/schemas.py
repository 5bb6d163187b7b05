"""The response models: the metrics document of metrics.md, snapshots and their summaries.

Field order is the document's order, so the JSON reads as metrics.md does. Breakdown cells
are `int | None`: None is a cell hidden by disclosure control (listed in `suppressed`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class PeriodOut(Out):
    start: str | None = Field(alias="from", description="first day, YYYY-MM-DD (inclusive); null: open")
    end: str | None = Field(alias="to", description="last day, YYYY-MM-DD (inclusive); null: up to as_of")


class TimeToWelcome(Out):
    median: float | None
    p90: float | None


class ReferralCounts(Out):
    created: int
    accepted: int
    accompanied: int
    welcomed: int
    participating_4w: int
    participating_12w: int
    rejected: int
    cancelled: int
    no_show: int = Field(0, description="ended without welcome: the citizen did not come (NoShowReported)")
    welcome_rate: float | None
    time_to_welcome_days: TimeToWelcome


class Accompaniment(Out):
    needed: int
    arranged: int
    accompanied: int
    gap: int


class Generation(Out):
    generation: int = Field(description="0 = the guides")
    referrers: int = Field(description="actors_by_generation[generation]")
    referrals: int = Field(description="referrals_by_generation[generation]")
    branching_factor: float | None = Field(description="branching_factor_by_generation[generation]")


class Cascade(Out):
    referrals_by_generation: dict[str, int]
    unattributed_referrals: int
    self_sustainment: float | None
    max_depth: int | None
    actors_by_generation: dict[str, int]
    branching_factor_by_generation: dict[str, float]
    reach_by_guide: dict[str, int | None]
    generations: list[Generation] = Field(
        default_factory=list, description="the cascade one generation a row, oldest first (for drawing)"
    )


class ByRole(Out):
    guide: int
    professional: int
    ambassador: int


class Referrers(Out):
    active_30d: int
    dormant_60d: int
    referrals_by_role: ByRole
    referrals_by_sector: dict[str, int | None] = Field(description="by sector code")


class GroupReach(Out):
    referred: int | None
    welcomed: int | None


class Equity(Out):
    by_target_group: dict[str, GroupReach] = Field(description="distinct citizens, by target group code")


class Areas(Out):
    welcomed_by_area: dict[str, int | None] = Field(description="by the community's area code")
    cross_area_share: float | None


class RejectionReasons(Out):
    full: int
    not_suitable: int
    no_contact: int
    other: int


class Capacity(Out):
    communities_full: int
    rejections_by_reason: RejectionReasons
    unmet_needs_by_category: dict[str, int] = Field(description="by category code")


class PracticeTracks(Out):
    participants: int
    bridged: int
    bridging_rate: float | None


class Outreach(Out):
    postcards: int
    website_visit: int
    info_meeting: int
    door_to_door: int


class ReadinessCounts(Out):
    """Referrers activated by the period end, and of them those who reached at least each level."""

    activated: int | None
    aware: int | None
    trained: int | None
    referring: int | None
    accompanying: int | None


class Readiness(Out):
    by_sector: dict[str, ReadinessCounts] = Field(
        description="professionals by sector code; ambassadors in the row 'ambassador'"
    )
    total: ReadinessCounts = Field(description="every professional and ambassador (never suppressed)")


class LonelinessAt(Out):
    measured: int | None = Field(description="cohort referrals with a score at this moment")
    scores: dict[str, int | None] = Field(description="how many scored 3, 4, ... 9")
    lonely_share: float | None = Field(description="share with a score of 7 or more")


class Loneliness(Out):
    referral: LonelinessAt
    week_12: LonelinessAt
    paired: int | None = Field(description="cohort referrals with a score at both moments")
    mean_change: float | None = Field(description="mean of week_12 - referral among the paired")


class Metrics(Out):
    """Every metric of metrics.md for one period (the cohort of referrals created in it)."""

    period: PeriodOut
    as_of: str
    referrals: ReferralCounts
    accompaniment: Accompaniment
    cascade: Cascade
    referrers: Referrers
    equity: Equity
    areas: Areas
    capacity: Capacity
    practice_tracks: PracticeTracks
    outreach: Outreach
    readiness: Readiness | None = Field(None, description="the readiness funnel (null in older snapshots)")
    loneliness: Loneliness | None = Field(
        None, description="null when no cohort referral has a loneliness score (the scale is optional)"
    )
    suppressed: list[str] = Field(description="paths of the cells hidden by disclosure control")


class Month(Out):
    month: str = Field(description="YYYY-MM on the Copenhagen calendar")
    created: int
    welcomed: int
    referrals_by_generation: dict[str, int]
    unattributed_referrals: int
    self_sustainment: float | None


class SnapshotSummary(Out):
    snapshot_id: str
    label: str
    computed_at: str
    periods: dict[str, PeriodOut] = Field(description="yesterday, last_30_days and all_time")


class SnapshotOut(SnapshotSummary):
    metrics: dict[str, Metrics] = Field(description="the metrics of each period, disclosure applied")
    monthly: list[Month]
