"""The projections as columns: numpy arrays over dense integer codes, built once per load.

Why columns: at a million referrals, per-row Python work (dicts and sets keyed by 700,000
citizen-id strings, where nearly every lookup misses the CPU cache) cost seconds. Here each
id is turned into a dense integer code exactly once, while loading; after that every
metric is a handful of vectorised passes (masks, `bincount`, `unique`) over plain arrays.

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

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from services.analytics.domain import Lineage, citizen_key, resolve_lineage

Times = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

MAX_EXACT_US = 2**53  # float64 is exact below this (times in µs: up to the year 2255)
PRACTICE_TRACK = "practice_track"


# --------------------------------------------------------------------------- coding


def vocabulary(*columns: Iterable[Any]) -> list[Any]:
    """The sorted distinct non-null values of `columns` (`set` dedups in C: cheap even over
    a million values when there are few distinct ones)."""
    distinct: set[Any] = set()
    for column in columns:
        distinct.update(column)
    distinct.discard(None)
    return sorted(distinct)


def encode(values: Sequence[Hashable | None], words: Sequence[Any], missing: int = -1) -> Codes:
    """Codes of `values` in `words` (which holds every non-null value); `missing` for None."""
    index: dict[Any, int] = {word: i for i, word in enumerate(words)}
    index[None] = missing
    return np.fromiter(map(index.__getitem__, values), np.int64, len(values))


def times(values: Sequence[int | None]) -> Times:
    """µs column with NULL -> NaN (numpy turns None into NaN when it builds a float array)."""
    column = np.array(values, dtype=np.float64) if len(values) else np.empty(0, np.float64)
    if column.size and np.nanmax(np.abs(column), initial=0.0) >= MAX_EXACT_US:
        raise ValueError("an event time is beyond what the float64 columns hold exactly (year 2255)")
    return column


def flags(values: Sequence[Any]) -> Flags:
    """Truthy column (NULL = false), from 0/1 (SQLite) or booleans (PostgreSQL)."""
    return np.nan_to_num(np.array(values, dtype=np.float64)) != 0 if len(values) else np.zeros(0, np.bool_)


# --------------------------------------------------------------------------- the snapshot


# Stages of a referral that the metrics only ever test against `as_of` ("reached by then"):
# the loader asks the database for one small bit set per referral instead of seven
# microsecond columns (a million rows x seven Python ints was most of the load time).
STAGES = ("accepted", "arranged", "accompanied", "rejected", "cancelled", "participating_4w", "participating_12w")


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
    capacity: list[tuple[str, int, str]]  # (community, time, status): a few thousand rows
    needs: list[tuple[int, str | None, str]]  # (time, area, category)
    outreach: list[tuple[int, str, int]]  # (time, kind, count)
    bridges: list[tuple[str, str, int]]  # (citizen, from community, time)

    # Period-independent, computed once per snapshot (the nightly run computes three periods
    # and a monthly series from one load).

    @cached_property
    def first_referrer(self) -> Codes:
        """Per citizen code: the referrer (actor code) of the citizen's first referral over all
        time (earliest ReferralCreated; ties: the smaller referrer id), -1 if none."""
        r = self.referrals
        first = np.full(self.citizen_keys.size, -1, np.int64)
        if not len(r):
            return first
        # Order by (time, referrer): one exact int64 key when the span allows it (one sort
        # instead of lexsort's two), then each citizen's first occurrence in that order.
        earliest, span = r.created.min(), r.created.max() - r.created.min()
        referrers = int(r.referrer.max()) + 1
        if span * referrers < 2**62:
            key = (r.created - earliest).astype(np.int64) * referrers + r.referrer
            order = np.argsort(key, kind="stable")
        else:
            order = np.lexsort((r.referrer, r.created))
        # Citizen codes are dense, so each one's first position is a scatter-min, not a sort.
        first_position = np.full(first.size, len(r), np.int64)
        np.minimum.at(first_position, r.citizen[order], np.arange(len(r)))
        referred = first_position < len(r)
        first[referred] = r.referrer[order[first_position[referred]]]
        return first

    @cached_property
    def lineage(self) -> Lineage:
        """Generations and root guides by actor id (`domain.resolve_lineage`, over the few
        thousand actors that have a row; a parent without one ends its chain)."""
        actors, ids = self.actors, self.actor_ids
        guide = _code_of(self.roles, "guide")
        ambassador = _code_of(self.roles, "ambassador")
        code = {actor_id: i for i, actor_id in enumerate(ids)}
        first = self.first_referrer
        role, activated_by, has_row = actors.role.tolist(), actors.activated_by.tolist(), actors.has_row.tolist()
        # An ambassador who once was a referred citizen: that citizen's code, looked up at once.
        was_citizen = [i for i, ref in enumerate(actors.citizen_ref) if ref and role[i] == ambassador]
        citizen_of = dict(
            zip(
                was_citizen, self.citizen_codes([str(actors.citizen_ref[i]) for i in was_citizen]).tolist(), strict=True
            )
        )

        def is_guide(actor_id: str) -> bool:
            i = code.get(actor_id)
            return i is not None and has_row[i] and role[i] == guide

        def parent(actor_id: str) -> str | None:
            i = code.get(actor_id)
            if i is None or not has_row[i]:
                return None
            if activated_by[i] >= 0:
                return ids[activated_by[i]]
            citizen = citizen_of.get(i, -1)
            referrer = int(first[citizen]) if citizen >= 0 else -1
            return ids[referrer] if referrer >= 0 else None

        with_row = [ids[i] for i in np.flatnonzero(actors.has_row)]
        return resolve_lineage(with_row, is_guide, parent)  # type: ignore[arg-type]

    @cached_property
    def generation(self) -> Codes:
        """Per actor code: generation in the cascade (guides 0), -1 unattributed."""
        return self._per_actor(self.lineage.generation.items(), lambda g: g)

    @cached_property
    def root(self) -> Codes:
        """Per actor code: actor code of the guide the chain starts from, -1 unattributed."""
        code = {actor_id: i for i, actor_id in enumerate(self.actor_ids)}
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

    def _per_actor(self, items: Iterable[tuple[str, Any]], value: Any) -> Codes:
        column = np.full(len(self.actor_ids), -1, np.int64)
        code = {actor_id: i for i, actor_id in enumerate(self.actor_ids)}
        for actor_id, v in items:
            column[code[actor_id]] = value(v)
        return column


def _code_of(words: list[str], word: str) -> int:
    return words.index(word) if word in words else -2  # -2 matches no code, not even "unknown"


# --------------------------------------------------------------------------- building


class Coding(NamedTuple):
    ids: list[str | None]  # by code
    code_of: dict[str | None, int]  # id -> code
    keys: Codes  # the keys' codes
    columns: list[Codes]  # each column's codes


def code_ids(keys: Sequence[str], *columns: Sequence[str | None], ordered: bool = False) -> Coding:
    """Dense codes for ids: the (unique) `keys` of a projection table take 0..n-1, ids met only
    in `columns` the next ones; NULL is an id of its own. Each value costs one dict lookup in
    C (`map(dict.get)`); only the rare id that is not a key takes a Python step.

    With `ordered`, codes are renumbered to sort as the ids do (None last), so comparing codes
    compares ids."""
    index: dict[str | None, int] = dict(zip(keys, range(len(keys)), strict=True))
    coded: list[list[int]] = []
    for column in columns:
        codes: list[Any] = list(map(index.get, column))
        if None in codes:
            for i in [i for i, code in enumerate(codes) if code is None]:
                codes[i] = index.setdefault(column[i], len(index))
        coded.append(codes)
    ids = list(index)
    remap = np.arange(len(ids), dtype=np.int64)
    if ordered:
        order = sorted(range(len(ids)), key=lambda i: (ids[i] is None, ids[i] or ""))
        remap[order] = np.arange(len(ids))
        ids = [ids[i] for i in order]
        index = {id_: i for i, id_ in enumerate(ids)}
    columns_coded = [np.fromiter(c, np.int64, len(c)) for c in coded]
    if ordered:
        columns_coded = [remap[c] for c in columns_coded]
    return Coding(ids, index, remap[: len(keys)], columns_coded)


MISSING_KEY = -(2**63)  # a NULL citizen key: one citizen of its own, as NULL was in a set


def code_keys(*columns: Sequence[int | None]) -> tuple[Codes, list[Codes]]:
    """Dense codes for integer keys over several columns: the sorted distinct keys, and each
    column's codes (positions in them). One `np.unique` over all of them, in C."""
    arrays = []
    for column in columns:
        values = list(column)
        if None in values:
            values = [MISSING_KEY if v is None else v for v in values]
        arrays.append(np.fromiter(values, np.int64, len(values)))
    keys, codes = np.unique(np.concatenate(arrays) if arrays else np.empty(0, np.int64), return_inverse=True)
    return keys, np.split(codes, np.cumsum([a.size for a in arrays])[:-1])


def build(
    as_of_us: int,
    actor_rows: Sequence[Sequence[Any]],
    citizen_rows: Sequence[Sequence[Any]],
    referral_rows: Sequence[Sequence[Any]],
    community_rows: Sequence[Sequence[Any]],
    capacity: list[tuple[str, int, str]],
    needs: list[tuple[int, str | None, str]],
    outreach: list[tuple[int, str, int]],
    bridges: list[tuple[str, str, int]],
) -> Snapshot:
    """The columnar snapshot from the rows `store.load_snapshot` reads:

    - actors: (actor_id, role, sector, area, activated_by, citizen_ref, activated_us)
    - citizens (not erased): (citizen_key, area, "|"-joined target groups)
    - referrals: (created, citizen, community, referrer, needs_accompaniment, the STAGES
      reached by `as_of` as a bit set, welcomed (if by `as_of`), rejection_reason)
    - communities: (community_id, area, kind)
    """
    (a_id, a_role, a_sector, _, a_by, a_citizen, a_activated) = _columns(actor_rows, 7)
    a_sector = [s or None for s in a_sector]
    a_by = [b or None for b in a_by]
    (created, citizen, community, referrer, needs_acc, stages, welcomed, reason) = _columns(referral_rows, 8)
    (c_ref, c_area, c_groups) = _columns(citizen_rows, 3)
    c_groups = [g or None for g in c_groups]
    (k_id, k_area, k_kind) = _columns(community_rows, 3)

    # Referrer codes sort as the ids do: the first referral's tie-break compares them.
    activators = [b for b in a_by if b is not None]
    actor_ids, _, actor_row, (activator, referrer_codes) = code_ids(a_id, activators, referrer, ordered=True)
    activated_by = np.full(len(a_id), -1, np.int64)
    activated_by[[i for i, b in enumerate(a_by) if b is not None]] = activator
    roles, sectors = vocabulary(a_role), vocabulary(a_sector)
    n_actors = len(actor_ids)

    def per_actor(values: npt.NDArray[Any], fill: float) -> Any:
        column = np.full(n_actors, fill, values.dtype)
        column[actor_row] = values
        return column

    citizen_ref: list[str | None] = [None] * n_actors
    for i, ref in zip(actor_row.tolist(), a_citizen, strict=True):
        citizen_ref[i] = ref
    actors = Actors(
        role=per_actor(encode(a_role, roles), -1),
        sector=per_actor(encode(a_sector, sectors), -1),
        activated=per_actor(times(a_activated), np.nan),
        activated_by=per_actor(activated_by, -1),
        has_row=per_actor(np.ones(len(a_id), np.bool_), False),
        citizen_ref=citizen_ref,
    )

    areas = vocabulary(c_area, k_area)
    citizen_keys, (citizen_codes, citizen_row) = code_keys(citizen, c_ref)
    group_sets = vocabulary(c_groups)
    citizens = Citizens(
        area=_scattered(encode(c_area, areas), citizen_row, citizen_keys.size),
        groups=_scattered(encode(c_groups, group_sets), citizen_row, citizen_keys.size),
    )

    community_ids, _, community_row, (community_codes,) = code_ids(k_id, community)
    community_area = np.full(len(community_ids), -1, np.int64)
    community_area[community_row] = encode(k_area, areas)
    practice_track = np.zeros(len(community_ids), np.bool_)
    practice_track[community_row] = [kind == PRACTICE_TRACK for kind in k_kind]

    reasons = vocabulary(reason)
    referrals = Referrals(
        created=times(created),
        citizen=citizen_codes,
        community=community_codes,
        referrer=referrer_codes,
        needs_accompaniment=flags(needs_acc),
        stages=np.fromiter(stages, np.int64, len(stages)),
        welcomed=times(welcomed),
        rejection_reason=encode(reason, reasons),
    )
    return Snapshot(
        as_of_us=as_of_us,
        actor_ids=actor_ids,
        actors=actors,
        roles=roles,
        sectors=sectors,
        citizen_keys=citizen_keys,
        citizens=citizens,
        group_sets=group_sets,
        community_ids=community_ids,
        community_area=community_area,
        practice_track=practice_track,
        areas=areas,
        referrals=referrals,
        reasons=reasons,
        capacity=capacity,
        needs=needs,
        outreach=outreach,
        bridges=bridges,
    )


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    """Rows to columns (`zip(*rows)` runs in C); empty tables give empty columns."""
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def _scattered(codes: Codes, at: Codes, size: int) -> Codes:
    """Per-citizen attribute codes: `codes[i]` at citizen `at[i]`, -1 elsewhere."""
    column = np.full(size, -1, np.int64)
    column[at] = codes
    return column
