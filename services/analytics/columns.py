"""The projection tables as named columns, and the coding of their values into dense codes.

`store.load_snapshot` reads each table with the driver's own cursor and turns its rows into
columns at once (`zip(*rows)` runs in C; a million named row objects would cost most of a
second), so each table arrives as a NamedTuple of columns: `referrals.created`, never
`columns[0]`. The small tables (a few thousand rows) stay rows, also named.

Coding conventions (see `snapshot.py` for why):
- Times are float64 microseconds since the epoch (UTC), NaN where the event never happened.
- Ids are coded densely; NULL is an id of its own, as it was in a `set`.
- Attributes are codes into a sorted vocabulary, -1 where unknown.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self, TypeVar

import numpy as np
import numpy.typing as npt

Times = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

MAX_EXACT_US = 2**53  # float64 is exact below this (times in µs: up to the year 2255)
MISSING_KEY = -(2**63)  # a NULL citizen key: one citizen of its own, as NULL was in a set


# --------------------------------------------------------------------------- named columns


C = TypeVar("C", bound=NamedTuple)


def columns_of(kind: type[C], rows: Sequence[Sequence[Any]]) -> C:
    """Rows to a NamedTuple of columns (`zip(*rows)` runs in C); no rows, empty columns."""
    if rows:
        return kind._make(zip(*rows, strict=True))
    return kind._make(() for _ in kind._fields)


class ActorColumns(NamedTuple):
    actor_id: Sequence[str]
    role: Sequence[str | None]
    sector: Sequence[str | None]
    activated_by: Sequence[str | None]
    citizen_ref: Sequence[str | None]
    activated_us: Sequence[int | None]


class CitizenColumns(NamedTuple):
    """Citizens not erased that still have attributes."""

    citizen_key: Sequence[int | None]
    area: Sequence[str | None]
    target_groups: Sequence[str | None]  # "|"-joined


class ReferralColumns(NamedTuple):
    created_us: Sequence[int]
    citizen_key: Sequence[int | None]
    community_id: Sequence[str | None]
    referrer_id: Sequence[str | None]
    needs_accompaniment: Sequence[bool | int | None]
    stages: Sequence[int]  # bit i set: snapshot.STAGES[i] happened by `as_of`
    welcomed_us: Sequence[int | None]  # NULL unless welcomed by `as_of`
    rejection_reason: Sequence[str | None]
    loneliness: Sequence[int]  # both scores by `as_of` (`domain.LONELINESS_BASE`), 0 none


class CommunityColumns(NamedTuple):
    community_id: Sequence[str]
    area: Sequence[str | None]
    kind: Sequence[str | None]


class CapacityRow(NamedTuple):
    community_id: str
    time_us: int
    status: str


class NeedRow(NamedTuple):
    time_us: int
    area: str | None
    category: str


class OutreachRow(NamedTuple):
    time_us: int
    kind: str
    amount: int  # postcards sent, visits, people met


class BridgeRow(NamedTuple):
    citizen_ref: str
    from_community_id: str
    time_us: int


class ReadinessRow(NamedTuple):
    actor_id: str
    aware_us: int | None
    trained_us: int | None
    referring_us: int | None
    accompanying_us: int | None


@dataclass(frozen=True, slots=True)
class Tables:
    """Everything the metrics read from the projections, as known at `as_of_us`."""

    as_of_us: int
    actors: ActorColumns
    citizens: CitizenColumns
    referrals: ReferralColumns
    communities: CommunityColumns
    capacity: list[CapacityRow]
    needs: list[NeedRow]
    outreach: list[OutreachRow]
    bridges: list[BridgeRow]
    readiness: list[ReadinessRow] = field(default_factory=list)

    @classmethod
    def empty(cls, as_of_us: int) -> Self:
        return cls(
            as_of_us,
            columns_of(ActorColumns, []),
            columns_of(CitizenColumns, []),
            columns_of(ReferralColumns, []),
            columns_of(CommunityColumns, []),
            [],
            [],
            [],
            [],
        )


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


def flags(values: Sequence[bool | int | None]) -> Flags:
    """Truthy column (NULL = false), from 0/1 (SQLite) or booleans (PostgreSQL)."""
    return np.nan_to_num(np.array(values, dtype=np.float64)) != 0 if len(values) else np.zeros(0, np.bool_)


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
            for position in [p for p, code in enumerate(codes) if code is None]:
                codes[position] = index.setdefault(column[position], len(index))
        coded.append(codes)
    ids = list(index)
    remap = np.arange(len(ids), dtype=np.int64)
    if ordered:
        order = sorted(range(len(ids)), key=lambda code: (ids[code] is None, ids[code] or ""))
        remap[order] = np.arange(len(ids))
        ids = [ids[code] for code in order]
        index = {identifier: code for code, identifier in enumerate(ids)}
    columns_coded = [np.fromiter(codes, np.int64, len(codes)) for codes in coded]
    if ordered:
        columns_coded = [remap[codes] for codes in columns_coded]
    return Coding(ids, index, remap[: len(keys)], columns_coded)


def code_keys(*columns: Sequence[int | None]) -> tuple[Codes, list[Codes]]:
    """Dense codes for integer keys over several columns: the sorted distinct keys, and each
    column's codes (positions in them). One `np.unique` over all of them, in C."""
    arrays = []
    for column in columns:
        values = list(column)
        if None in values:
            values = [MISSING_KEY if value is None else value for value in values]
        arrays.append(np.fromiter(values, np.int64, len(values)))
    keys, codes = np.unique(np.concatenate(arrays) if arrays else np.empty(0, np.int64), return_inverse=True)
    return keys, np.split(codes, np.cumsum([array.size for array in arrays])[:-1])


def scattered(codes: Codes, at: Codes, size: int) -> Codes:
    """A per-code column of `size`: `codes[i]` at code `at[i]`, -1 elsewhere."""
    column = np.full(size, -1, np.int64)
    column[at] = codes
    return column
