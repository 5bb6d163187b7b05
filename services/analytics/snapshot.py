"""The projections as columns: numpy arrays over dense integer codes, built once per load.

Why columns: at a million referrals, per-row Python work (dicts and sets keyed by 700,000
citizen-id strings, where nearly every lookup misses the CPU cache) cost seconds. Here each
id is turned into a dense integer code exactly once, while loading (`assemble.py`); after
that every metric is a handful of vectorised passes (masks, `bincount`, `unique`) over plain
arrays.

Conventions:
- Times are float64 microseconds since the epoch (UTC), NaN where the event never happened.
  float64 holds every integer below 2**53 µs (the year 2255) exactly, so differences and
  comparisons are the same as on Python ints, and NaN compares false: "reached by `as_of`"
  is simply `times <= as_of`.
- Citizens are coded by their stored integer key (`domain.citizen_key`): one `np.unique`
  over a million int64s instead of a dict of 700,000 strings. Actors and communities (a few
  thousand ids) are coded with a dict; actor codes sort as the ids do, so comparing codes
  compares ids (the first referral's tie-break on the referrer id relies on this). A NULL id
  is an id of its own, as it was in a `set`.
- Attributes (areas, roles, sectors, kinds, reasons) are codes into a sorted vocabulary, -1
  where unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np

from services.analytics.columns import (
    BridgeRow,
    CapacityRow,
    Codes,
    Flags,
    NeedRow,
    OutreachRow,
    Times,
)
from services.analytics.domain import Lineage, citizen_key, resolve_lineage

PRACTICE_TRACK = "practice_track"
V = TypeVar("V")

# Stages of a referral that the metrics only ever test against `as_of` ("reached by then"):
# the loader asks the database for one small bit set per referral instead of seven
# microsecond columns (a million rows x seven Python ints was most of the load time).
STAGES = (
    "accepted",
    "arranged",
    "accompanied",
    "rejected",
    "cancelled",
    "participating_4w",
    "participating_12w",
    "no_show",
)


@dataclass(frozen=True)
class Referrals:
    """One entry per referral that has a ReferralCreated, as known at the snapshot's `as_of`."""

    created: Times  # every referral, also those created after `as_of` (first referrals are all-time)
    citizen: Codes  # into Snapshot.citizen_keys
    community: Codes  # into Snapshot.community_ids
    referrer: Codes  # into Snapshot.actor_ids
    needs_accompaniment: Flags
    stages: Codes  # bit i set: STAGES[i] happened by `as_of`
    welcomed: Times  # NaN unless welcomed by `as_of`
    rejection_reason: Codes  # into Snapshot.reasons, -1 unknown
    loneliness: Codes  # both scores by `as_of` (`domain.LONELINESS_BASE`), 0 none

    def __len__(self) -> int:
        return int(self.created.size)

    def reached(self, stage: str) -> Flags:
        return (self.stages & (1 << STAGES.index(stage))) != 0  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Actors:
    """Per actor code (`Snapshot.actor_ids`: activated actors and every referrer or activator
    seen, so referrers that were never activated have a code too, without attributes)."""

    role: Codes  # into Snapshot.roles, -1 unknown
    sector: Codes  # into Snapshot.sectors, -1 none (empty counts as none)
    activated: Times
    activated_by: Codes  # actor code, -1 none
    has_row: Flags  # activated (has a row in the actor projection)
    citizen_ref: list[str | None]  # an ambassador who once was a referred citizen


@dataclass(frozen=True)
class Citizens:
    """Per citizen code; attributes only for citizens not erased."""

    area: Codes  # into Snapshot.areas, -1 unknown
    groups: Codes  # into Snapshot.group_sets ("|"-joined target groups), -1 none


@dataclass(frozen=True)
class Snapshot:
    """The projections as known at `as_of_us` (stages after it count as not happened)."""

    as_of_us: int
    actor_ids: list[str | None]
    actors: Actors
    roles: list[str]
    sectors: list[str]
    citizen_keys: Codes  # sorted `domain.citizen_key`s; a citizen's code is its position
    citizens: Citizens
    group_sets: list[str]
    community_ids: list[str | None]
    community_area: Codes  # per community code, into `areas`, -1 unknown
    practice_track: Flags  # per community code
    areas: list[str]  # shared by citizens and communities, so area codes compare as areas do
    referrals: Referrals
    reasons: list[str]
    capacity: list[CapacityRow]  # a few thousand rows: kept as rows
    needs: list[NeedRow]
    outreach: list[OutreachRow]
    bridges: list[BridgeRow]
    # Per actor code and readiness level (`domain.READINESS_LEVELS`): the earliest recorded
    # evidence of exactly that level, NaN none (`readiness.py` adds referrals and cumulates).
    readiness: Times

    # Period-independent, computed once per snapshot (the nightly run computes three periods
    # and a monthly series from one load).

    @cached_property
    def first_referrer(self) -> Codes:
        """Per citizen code: the referrer (actor code) of the citizen's first referral over all
        time (earliest ReferralCreated; ties: the smaller referrer id), -1 if none."""
        referrals = self.referrals
        first = np.full(self.citizen_keys.size, -1, np.int64)
        if not len(referrals):
            return first
        # Order by (time, referrer): one exact int64 key when the span allows it (one sort
        # instead of lexsort's two), then each citizen's first occurrence in that order.
        created, referrer = referrals.created, referrals.referrer
        earliest, span = created.min(), created.max() - created.min()
        referrers = int(referrer.max()) + 1
        if span * referrers < 2**62:
            key = (created - earliest).astype(np.int64) * referrers + referrer
            order = np.argsort(key, kind="stable")
        else:
            order = np.lexsort((referrer, created))
        # Citizen codes are dense, so each one's first position is a scatter-min, not a sort.
        count = len(referrals)
        first_position = np.full(first.size, count, np.int64)
        np.minimum.at(first_position, referrals.citizen[order], np.arange(count))
        referred = first_position < count
        first[referred] = referrer[order[first_position[referred]]]
        return first

    @cached_property
    def lineage(self) -> Lineage:
        """Generations and root guides by actor id (`domain.resolve_lineage`, over the few
        thousand actors that have a row; a parent without one ends its chain)."""
        actors, ids = self.actors, self.actor_ids
        guide = code_of(self.roles, "guide")
        ambassador = code_of(self.roles, "ambassador")
        code = {actor_id: position for position, actor_id in enumerate(ids)}
        first = self.first_referrer
        role, activated_by, has_row = actors.role.tolist(), actors.activated_by.tolist(), actors.has_row.tolist()
        # An ambassador who once was a referred citizen: that citizen's code, looked up at once.
        was_citizen = [
            actor for actor, citizen_ref in enumerate(actors.citizen_ref) if citizen_ref and role[actor] == ambassador
        ]
        their_codes = self.citizen_codes([str(actors.citizen_ref[actor]) for actor in was_citizen]).tolist()
        citizen_of = dict(zip(was_citizen, their_codes, strict=True))

        def is_guide(actor_id: str) -> bool:
            actor = code.get(actor_id)
            return actor is not None and has_row[actor] and role[actor] == guide

        def parent(actor_id: str) -> str | None:
            actor = code.get(actor_id)
            if actor is None or not has_row[actor]:
                return None
            if activated_by[actor] >= 0:
                return ids[activated_by[actor]]
            citizen = citizen_of.get(actor, -1)
            referrer = int(first[citizen]) if citizen >= 0 else -1
            return ids[referrer] if referrer >= 0 else None

        # Actors with a row have an id (the projection's key); only unseen referrers may be NULL.
        with_row = [str(ids[actor]) for actor in np.flatnonzero(actors.has_row)]
        return resolve_lineage(with_row, is_guide, parent)

    @cached_property
    def generation(self) -> Codes:
        """Per actor code: generation in the cascade (guides 0), -1 unattributed."""
        return self._per_actor(self.lineage.generation.items(), int)

    @cached_property
    def root(self) -> Codes:
        """Per actor code: actor code of the guide the chain starts from, -1 unattributed."""
        code = {actor_id: position for position, actor_id in enumerate(self.actor_ids)}
        return self._per_actor(self.lineage.root.items(), code.__getitem__)

    @cached_property
    def citizen_depth(self) -> Codes:
        """Per citizen code: generation of a referred citizen (one below the referrer of the
        first referral), -1 when that referrer is unattributed or there is none."""
        first = self.first_referrer
        depth = np.full(first.size, -1, np.int64)
        known = first >= 0
        depth[known] = self.generation[first[known]]
        depth[known & (depth >= 0)] += 1
        return depth

    def citizen_codes(self, citizen_refs: Sequence[str]) -> Codes:
        """Codes of citizens by reference, -1 for a citizen the snapshot does not know."""
        keys = self.citizen_keys
        if not keys.size or not citizen_refs:
            return np.full(len(citizen_refs), -1, np.int64)
        wanted = np.fromiter(map(citizen_key, citizen_refs), np.int64, len(citizen_refs))
        at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
        return np.where(keys[at] == wanted, at, -1)

    def _per_actor(self, items: Iterable[tuple[str, V]], as_code: Callable[[V], int]) -> Codes:
        column = np.full(len(self.actor_ids), -1, np.int64)
        code = {actor_id: position for position, actor_id in enumerate(self.actor_ids)}
        for actor_id, value in items:
            column[code[actor_id]] = as_code(value)
        return column


def code_of(words: list[str], word: str) -> int:
    return words.index(word) if word in words else -2  # -2 matches no code, not even "unknown"
