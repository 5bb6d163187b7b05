"""The projection tables as groups of columns, each kept from its earliest or latest event.

Each projection row is a set of *groups*: a time column and the columns that come with it.
A group keeps the values of its earliest (`min`) or latest (`max`) event, whatever order the
events arrive in, so a back-dated or late event lands where its time says and a redelivered
one changes nothing. Append-only tables are keyed by event id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.analytics.domain import READINESS_LEVELS


@dataclass(frozen=True)
class Group:
    time: str
    columns: tuple[str, ...]
    keep: Literal["min", "max"]

    def wins(self, new: int | None, old: int | None) -> bool:
        if new is None:
            return False
        if old is None:
            return True
        return bool(new < old) if self.keep == "min" else bool(new > old)


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str
    groups: tuple[Group, ...] = ()
    # Columns nulled for good once this time column is set (erasure).
    erase_with: str | None = None
    erased_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        cols = [self.key]
        for g in self.groups:
            cols += [g.time, *g.columns]
        return tuple(cols)


ACTORS = TableSpec(
    "an_actor",
    "actor_id",
    (Group("activated_us", ("role", "sector", "area", "activated_by", "citizen_ref"), "min"),),
)
CITIZENS = TableSpec(
    "an_citizen",
    "citizen_ref",
    (
        Group("registered_us", ("citizen_key", "age_band", "area", "target_groups"), "max"),
        Group("erased_us", (), "min"),
    ),
    erase_with="erased_us",
    erased_columns=("registered_us", "age_band", "area", "target_groups"),
)
# A referral's loneliness scores are its citizen's health data: forgotten when the citizen is
# erased (the referral itself stays and counts). `upsert.forget_scores` sets `citizen_erased_us` on the
# citizen's referrals; from then on no score is kept, whatever order the events come in.
LONELINESS_COLUMNS = ("loneliness_referral_us", "loneliness_referral", "loneliness_week_12_us", "loneliness_week_12")
REFERRALS = TableSpec(
    "an_referral",
    "referral_id",
    (
        Group(
            "created_us", ("citizen_ref", "citizen_key", "community_id", "referrer_id", "needs_accompaniment"), "min"
        ),
        Group("accepted_us", (), "min"),
        Group("arranged_us", (), "min"),
        Group("accompanied_us", (), "min"),
        Group("welcomed_us", ("welcome_community_id",), "min"),
        Group("rejected_us", ("rejection_reason",), "min"),
        Group("cancelled_us", (), "min"),
        Group("participating_4w_us", (), "min"),
        Group("participating_12w_us", (), "min"),
        Group("no_show_us", (), "min"),
        # The loneliness scale's score at each moment (the earliest counts; one is recorded).
        Group("loneliness_referral_us", ("loneliness_referral",), "min"),
        Group("loneliness_week_12_us", ("loneliness_week_12",), "min"),
        Group("citizen_erased_us", (), "min"),
    ),
    erase_with="citizen_erased_us",
    erased_columns=LONELINESS_COLUMNS,
)
COMMUNITIES = TableSpec(
    "an_community",
    "community_id",
    (Group("area_us", ("area",), "max"), Group("kind_us", ("kind",), "max"), Group("name_us", ("name",), "max")),
)
CAPACITY = TableSpec("an_capacity", "event_id")
NEEDS = TableSpec("an_need", "need_id", (Group("time_us", ("area", "category"), "min"),))
OUTREACH = TableSpec("an_outreach", "event_id")
BRIDGES = TableSpec("an_bridge", "event_id")
NUDGES = TableSpec("an_nudge", "event_id")
# The earliest evidence that a referrer reached each readiness level (see `readiness.py`).
READINESS = TableSpec(
    "an_readiness",
    "actor_id",
    tuple(Group(f"{level}_us", (), "min") for level in READINESS_LEVELS),
)
SPECS = (ACTORS, CITIZENS, REFERRALS, COMMUNITIES, CAPACITY, NEEDS, OUTREACH, BRIDGES, NUDGES, READINESS)
