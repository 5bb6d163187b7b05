"""Events -> projection rows, order-independent and idempotent.

Each projection row is a set of *groups*: a time column and the columns that come with it.
A group keeps the values of its earliest (`min`) or latest (`max`) event, whatever order the
events arrive in, so a back-dated or late event lands where its time says and a redelivered
one changes nothing. Append-only tables are keyed by event id.

The same code serves the live consumers (one event per call) and a rebuild (thousands per
call): `Changes` merges rows per key in memory, `store.write` upserts them in bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from services.analytics.domain import citizen_key, to_us
from shared.events import Envelope, Event
from shared.events import analytics as an
from shared.events import catalogue as cat
from shared.events import notifications as nt
from shared.events import referrals as ref

Row = dict[str, Any]


@dataclass(frozen=True)
class Group:
    time: str
    columns: tuple[str, ...]
    keep: Literal["min", "max"]

    def wins(self, new: Any, old: Any) -> bool:
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
    ),
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
SPECS = (ACTORS, CITIZENS, REFERRALS, COMMUNITIES, CAPACITY, NEEDS, OUTREACH, BRIDGES, NUDGES)
BY_NAME = {s.name: s for s in SPECS}


@dataclass
class Changes:
    """Pending rows per table and key, merged group by group."""

    rows: dict[str, dict[str, Row]] = field(default_factory=lambda: {s.name: {} for s in SPECS})
    events: int = 0

    def put(self, spec: TableSpec, row: Row) -> None:
        pending = self.rows[spec.name]
        key = row[spec.key]
        known = pending.get(key)
        if known is None:
            full = dict.fromkeys(spec.columns)
            full.update(row)
            pending[key] = full
        elif spec.groups:
            for group in spec.groups:
                if group.wins(row.get(group.time), known[group.time]):
                    known[group.time] = row[group.time]
                    for col in group.columns:
                        known[col] = row.get(col)
            full = known
        else:
            return  # keyed by event id: the same event again
        if spec.erase_with and full[spec.erase_with] is not None:
            for col in spec.erased_columns:
                full[col] = None

    def add(self, event_id: str, time_us: int, event: Event) -> None:
        apply = APPLY.get(type(event))
        if apply is not None:
            apply(self, event_id, time_us, event)
        self.events += 1

    def add_envelope(self, envelope: Envelope, event: Event) -> None:
        self.add(envelope.id, to_us(envelope.time), event)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def changes_of(items: Iterable[tuple[str, int, Event]]) -> Changes:
    changes = Changes()
    for event_id, time_us, event in items:
        changes.add(event_id, time_us, event)
    return changes


# --------------------------------------------------------------------------- per event type

Apply = Callable[[Changes, str, int, Any], None]


def _activated(c: Changes, _id: str, t: int, e: ref.ReferrerActivated) -> None:
    c.put(
        ACTORS,
        {
            "actor_id": e.actor_id,
            "activated_us": t,
            "role": e.role,
            "sector": e.sector,
            "area": e.area,
            "activated_by": e.activated_by,
            "citizen_ref": e.citizen_ref,
        },
    )


def _registered(c: Changes, _id: str, t: int, e: ref.CitizenRegistered) -> None:
    c.put(
        CITIZENS,
        {
            "citizen_ref": e.citizen_ref,
            "registered_us": t,
            "citizen_key": citizen_key(e.citizen_ref),
            "age_band": e.age_band,
            "area": e.area,
            "target_groups": "|".join(sorted(set(e.target_groups))),
        },
    )


def _erased(c: Changes, _id: str, t: int, e: ref.CitizenErased) -> None:
    c.put(CITIZENS, {"citizen_ref": e.citizen_ref, "erased_us": t})


def _created(c: Changes, _id: str, t: int, e: ref.ReferralCreated) -> None:
    c.put(
        REFERRALS,
        {
            "referral_id": e.referral_id,
            "created_us": t,
            "citizen_ref": e.citizen_ref,
            "citizen_key": citizen_key(e.citizen_ref),
            "community_id": e.community_id,
            "referrer_id": e.referrer_id,
            "needs_accompaniment": e.needs_accompaniment,
        },
    )


def _stage(column: str) -> Apply:
    def apply(c: Changes, _id: str, t: int, e: Any) -> None:
        c.put(REFERRALS, {"referral_id": e.referral_id, column: t})

    return apply


def _welcomed(c: Changes, _id: str, t: int, e: ref.WelcomeConfirmed) -> None:
    c.put(REFERRALS, {"referral_id": e.referral_id, "welcomed_us": t, "welcome_community_id": e.community_id})


def _rejected(c: Changes, _id: str, t: int, e: ref.ReferralRejected) -> None:
    c.put(REFERRALS, {"referral_id": e.referral_id, "rejected_us": t, "rejection_reason": e.reason})


def _participation(c: Changes, _id: str, t: int, e: ref.ParticipationConfirmed) -> None:
    if e.still_participating and e.weeks_after in (4, 12):
        c.put(REFERRALS, {"referral_id": e.referral_id, f"participating_{e.weeks_after}w_us": t})


def _bridged(c: Changes, event_id: str, t: int, e: ref.CitizenBridged) -> None:
    c.put(
        BRIDGES,
        {
            "event_id": event_id,
            "citizen_ref": e.citizen_ref,
            "from_community_id": e.from_community_id,
            "to_referral_id": e.to_referral_id,
            "time_us": t,
        },
    )


def _outreach(c: Changes, event_id: str, t: int, e: ref.OutreachRecorded) -> None:
    c.put(
        OUTREACH,
        {"event_id": event_id, "time_us": t, "actor_id": e.actor_id, "kind": e.kind, "count": e.count, "area": e.area},
    )


def _community(c: Changes, _id: str, t: int, e: cat.CommunityRegistered | cat.CommunityUpdated) -> None:
    row: Row = {"community_id": e.community_id}
    for column in ("area", "kind", "name"):
        value = getattr(e, column)
        if value is not None:
            row[f"{column}_us"] = t
            row[column] = value
    c.put(COMMUNITIES, row)


def _capacity(c: Changes, event_id: str, t: int, e: cat.CommunityCapacityChanged) -> None:
    c.put(CAPACITY, {"event_id": event_id, "community_id": e.community_id, "time_us": t, "status": e.status})


def _need(c: Changes, _id: str, t: int, e: cat.NeedRecorded) -> None:
    c.put(NEEDS, {"need_id": e.need_id, "time_us": t, "area": e.area, "category": e.category})


def _nudge(c: Changes, event_id: str, t: int, e: nt.NudgeSent | nt.NotificationDeliveryFailed) -> None:
    c.put(
        NUDGES,
        {
            "event_id": event_id,
            "time_us": t,
            "rule": e.rule,
            "channel": e.channel,
            "delivered": isinstance(e, nt.NudgeSent),
        },
    )


def _ignore(c: Changes, _id: str, t: int, e: Any) -> None:
    """Read but not projected (nothing in metrics.md depends on it)."""


APPLY: dict[type[Event], Apply] = {
    ref.ReferrerActivated: _activated,
    ref.ReadinessRecorded: _ignore,
    ref.CitizenRegistered: _registered,
    ref.CitizenErased: _erased,
    ref.ReferralCreated: _created,
    ref.ReferralAccepted: _stage("accepted_us"),
    ref.AccompanimentArranged: _stage("arranged_us"),
    ref.CitizenAccompanied: _stage("accompanied_us"),
    ref.WelcomeConfirmed: _welcomed,
    ref.ParticipationConfirmed: _participation,
    ref.ReferralRejected: _rejected,
    ref.ReferralCancelled: _stage("cancelled_us"),
    ref.CitizenBridged: _bridged,
    ref.OutreachRecorded: _outreach,
    cat.CommunityRegistered: _community,
    cat.CommunityUpdated: _community,
    cat.CommunityCapacityChanged: _capacity,
    cat.CommunityArchived: _ignore,
    cat.NeedRecorded: _need,
    cat.NetworkMeetingHeld: _ignore,
    nt.NudgeSent: _nudge,
    nt.NotificationDeliveryFailed: _nudge,
    an.MetricsSnapshotPublished: _ignore,
}


def handled_in(context: str) -> list[type[Event]]:
    return [model for model in APPLY if model.context == context]
