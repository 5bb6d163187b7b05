"""Events -> projection rows, order-independent and idempotent (the tables' groups and how
each keeps its earliest or latest event: `specs.py`).

The same code serves the live consumers (one event per call) and a rebuild (thousands per
call): `Changes` merges rows per key in memory, `store.write` upserts them in bulk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.analytics.domain import citizen_key, to_us
from services.analytics.specs import (
    ACTORS,
    BRIDGES,
    CAPACITY,
    CITIZENS,
    COMMUNITIES,
    NEEDS,
    NUDGES,
    OUTREACH,
    READINESS,
    REFERRALS,
    SPECS,
    TableSpec,
)
from shared.events import Envelope, Event
from shared.events import analytics as an
from shared.events import catalogue as cat
from shared.events import notifications as nt
from shared.events import referrals as ref

Row = dict[str, Any]


@dataclass
class Changes:
    """Pending rows per table and key, merged group by group."""

    rows: dict[str, dict[str, Row]] = field(default_factory=lambda: {spec.name: {} for spec in SPECS})
    events: int = 0
    # Citizens erased in these events (ref -> earliest erasure, µs): their referrals' scores go
    # too, which takes the database (`upsert.forget_scores`), as the event names no referral.
    erased: dict[str, int] = field(default_factory=dict)

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


# --------------------------------------------------------------------------- per event type

Apply = Callable[[Changes, str, int, Any], None]


def _activated(changes: Changes, _event_id: str, time_us: int, event: ref.ReferrerActivated) -> None:
    changes.put(
        ACTORS,
        {
            "actor_id": event.actor_id,
            "activated_us": time_us,
            "role": event.role,
            "sector": event.sector,
            "area": event.area,
            "activated_by": event.activated_by,
            "citizen_ref": event.citizen_ref,
        },
    )


def _registered(changes: Changes, _event_id: str, time_us: int, event: ref.CitizenRegistered) -> None:
    changes.put(
        CITIZENS,
        {
            "citizen_ref": event.citizen_ref,
            "registered_us": time_us,
            "citizen_key": citizen_key(event.citizen_ref),
            "age_band": event.age_band,
            "area": event.area,
            "target_groups": "|".join(sorted(set(event.target_groups))),
        },
    )


def _erased(changes: Changes, _event_id: str, time_us: int, event: ref.CitizenErased) -> None:
    changes.put(CITIZENS, {"citizen_ref": event.citizen_ref, "erased_us": time_us})
    known = changes.erased.get(event.citizen_ref)
    changes.erased[event.citizen_ref] = time_us if known is None else min(known, time_us)


def _created(changes: Changes, _event_id: str, time_us: int, event: ref.ReferralCreated) -> None:
    changes.put(
        REFERRALS,
        {
            "referral_id": event.referral_id,
            "created_us": time_us,
            "citizen_ref": event.citizen_ref,
            "citizen_key": citizen_key(event.citizen_ref),
            "community_id": event.community_id,
            "referrer_id": event.referrer_id,
            "needs_accompaniment": event.needs_accompaniment,
        },
    )


def _stage(column: str) -> Apply:
    def apply(changes: Changes, _event_id: str, time_us: int, event: Any) -> None:
        changes.put(REFERRALS, {"referral_id": event.referral_id, column: time_us})

    return apply


def _welcomed(changes: Changes, _event_id: str, time_us: int, event: ref.WelcomeConfirmed) -> None:
    changes.put(
        REFERRALS,
        {"referral_id": event.referral_id, "welcomed_us": time_us, "welcome_community_id": event.community_id},
    )


def _rejected(changes: Changes, _event_id: str, time_us: int, event: ref.ReferralRejected) -> None:
    changes.put(REFERRALS, {"referral_id": event.referral_id, "rejected_us": time_us, "rejection_reason": event.reason})


def _participation(changes: Changes, _event_id: str, time_us: int, event: ref.ParticipationConfirmed) -> None:
    if event.still_participating and event.weeks_after in (4, 12):
        changes.put(REFERRALS, {"referral_id": event.referral_id, f"participating_{event.weeks_after}w_us": time_us})


def _readiness(changes: Changes, _event_id: str, time_us: int, event: ref.ReadinessRecorded) -> None:
    changes.put(READINESS, {"actor_id": event.actor_id, f"{event.level}_us": time_us})


def _trained(changes: Changes, _event_id: str, time_us: int, event: ref.TrainingRecorded) -> None:
    # A recorded training is evidence of "trained" even without the ReadinessRecorded the
    # referrals service stages beside it (an ingested training, say).
    changes.put(READINESS, {"actor_id": event.actor_id, "trained_us": time_us})


def _accompanied(changes: Changes, _event_id: str, time_us: int, event: ref.CitizenAccompanied) -> None:
    changes.put(REFERRALS, {"referral_id": event.referral_id, "accompanied_us": time_us})
    # The companion has accompanied a citizen: evidence of "accompanying" (see `_trained`).
    changes.put(READINESS, {"actor_id": event.companion_id, "accompanying_us": time_us})


def _loneliness(changes: Changes, _event_id: str, time_us: int, event: ref.LonelinessMeasured) -> None:
    score = {f"loneliness_{event.moment}_us": time_us, f"loneliness_{event.moment}": event.score}
    changes.put(REFERRALS, {"referral_id": event.referral_id, **score})


def _bridged(changes: Changes, event_id: str, time_us: int, event: ref.CitizenBridged) -> None:
    changes.put(
        BRIDGES,
        {
            "event_id": event_id,
            "citizen_ref": event.citizen_ref,
            "from_community_id": event.from_community_id,
            "to_referral_id": event.to_referral_id,
            "time_us": time_us,
        },
    )


def _outreach(changes: Changes, event_id: str, time_us: int, event: ref.OutreachRecorded) -> None:
    changes.put(
        OUTREACH,
        {
            "event_id": event_id,
            "time_us": time_us,
            "actor_id": event.actor_id,
            "kind": event.kind,
            "count": event.count,
            "area": event.area,
        },
    )


def _community(
    changes: Changes, _event_id: str, time_us: int, event: cat.CommunityRegistered | cat.CommunityUpdated
) -> None:
    row: Row = {"community_id": event.community_id}
    for column in ("area", "kind", "name"):
        value = getattr(event, column)
        if value is not None:
            row[f"{column}_us"] = time_us
            row[column] = value
    changes.put(COMMUNITIES, row)


def _capacity(changes: Changes, event_id: str, time_us: int, event: cat.CommunityCapacityChanged) -> None:
    changes.put(
        CAPACITY, {"event_id": event_id, "community_id": event.community_id, "time_us": time_us, "status": event.status}
    )


def _need(changes: Changes, _event_id: str, time_us: int, event: cat.NeedRecorded) -> None:
    changes.put(NEEDS, {"need_id": event.need_id, "time_us": time_us, "area": event.area, "category": event.category})


def _nudge(changes: Changes, event_id: str, time_us: int, event: nt.NudgeSent | nt.NotificationDeliveryFailed) -> None:
    changes.put(
        NUDGES,
        {
            "event_id": event_id,
            "time_us": time_us,
            "rule": event.rule,
            "channel": event.channel,
            "delivered": isinstance(event, nt.NudgeSent),
        },
    )


def _ignore(changes: Changes, _event_id: str, time_us: int, event: Any) -> None:
    """Read but not projected (nothing in metrics.md depends on it)."""


APPLY: dict[type[Event], Apply] = {
    ref.ReferrerActivated: _activated,
    ref.ReadinessRecorded: _readiness,
    ref.TrainingRecorded: _trained,
    ref.CitizenRegistered: _registered,
    ref.CitizenErased: _erased,
    ref.ReferralCreated: _created,
    ref.ReferralAccepted: _stage("accepted_us"),
    ref.AccompanimentArranged: _stage("arranged_us"),
    ref.CitizenAccompanied: _accompanied,
    ref.WelcomeConfirmed: _welcomed,
    ref.ParticipationConfirmed: _participation,
    ref.ReferralRejected: _rejected,
    ref.ReferralCancelled: _stage("cancelled_us"),
    ref.NoShowReported: _stage("no_show_us"),
    ref.FirstVisitProposed: _ignore,
    ref.LonelinessMeasured: _loneliness,
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
