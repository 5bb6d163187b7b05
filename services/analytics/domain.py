"""Pure rules of analytics: time and period arithmetic, the cascade's lineage, percentiles,
disclosure control and the nightly schedule. No I/O here."""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from croniter import croniter

from shared.clock import COPENHAGEN, local

US_PER_DAY = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Breakdown cells that identify few citizens; values 1..MAX_SMALL_CELL are hidden.
MAX_SMALL_CELL = 4
# A referrer's readiness, lowest first: reaching a level means having reached every one below.
READINESS_LEVELS = ("aware", "trained", "referring", "accompanying")
# The loneliness scale's scores, and the one from which a citizen counts as often lonely.
LONELINESS_SCORES = range(3, 10)
LONELY_FROM = 7
# A referral's two scores travel as one small int: referral + LONELINESS_BASE * week_12 (0: none).
LONELINESS_BASE = 16


# --------------------------------------------------------------------------- time


def to_us(moment: datetime) -> int:
    """Event times are kept as integer microseconds since the epoch (UTC): exact, compact,
    and the same on SQLite and PostgreSQL."""
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def local_midnight_us(day: date) -> int:
    return to_us(datetime.combine(day, time(0), tzinfo=COPENHAGEN))


def minus_local_days(us: int, days: int) -> int:
    """`days` calendar days earlier on the Copenhagen wall clock (23 or 25 hours across DST)."""
    wall_clock = local(from_us(us)).replace(tzinfo=None)
    earlier = (wall_clock - timedelta(days=days)).replace(tzinfo=COPENHAGEN)
    return to_us(earlier)


def local_date(us: int) -> date:
    return local(from_us(us)).date()


# Days a period may name: microsecond timestamps of days far outside these overflowed (year 1,
# year 9999) into a 500; no Vejviser data is older than 1970 or planned past 2199.
PERIOD_EARLIEST = date(1970, 1, 1)
PERIOD_LATEST = date(2199, 12, 31)


@dataclass(frozen=True)
class Period:
    """`from`/`to` are inclusive Copenhagen dates; None means open-ended."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        for name, day in (("from", self.start), ("to", self.end)):
            if day is not None and not PERIOD_EARLIEST <= day <= PERIOD_LATEST:
                raise ValueError(f"'{name}' ({day}) must lie between {PERIOD_EARLIEST} and {PERIOD_LATEST}")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"'from' ({self.start}) is after 'to' ({self.end}); swap them")

    def bounds(self, as_of_us: int) -> tuple[int | None, int]:
        """(first microsecond in the period or None, first microsecond after the period end).

        The period end is the end of `to` (Copenhagen), or `as_of` when `to` is not given."""
        start = local_midnight_us(self.start) if self.start else None
        end = local_midnight_us(self.end + timedelta(days=1)) if self.end else as_of_us + 1
        return start, end

    def as_json(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


# --------------------------------------------------------------------------- citizens


def citizen_key(citizen_ref: str) -> int:
    """A signed 64-bit number for a citizen reference, stored beside it in the projections so
    the metrics load a million referrals' citizens as integers (coding 700,000 distinct
    strings in Python dicts cost most of a second). A pure function of the reference, so
    projections stay order-independent and a rebuild gives the same keys. Two references
    sharing a key (blake2b, 64 bits: odds about n^2 / 2^65, 1 in 75 million at 700,000
    citizens) would count as one citizen."""
    return int.from_bytes(hashlib.blake2b(citizen_ref.encode(), digest_size=8).digest(), "big", signed=True)


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Percentile with linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    rank = fraction * (len(sorted_values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --------------------------------------------------------------------------- the cascade


@dataclass(frozen=True)
class Lineage:
    """Each attributed actor's generation and the guide their chain starts from."""

    generation: dict[str, int]
    root: dict[str, str]


def resolve_lineage(
    actor_ids: Iterable[str], is_guide: Callable[[str], bool], parent: Callable[[str], str | None]
) -> Lineage:
    """Follow every actor's chain of parents to a guide.

    Each non-guide actor has at most one parent one generation above it: the actor who
    activated it, or, for an ambassador who was once a referred citizen, the referrer of that
    citizen's first referral (citizen generation = referrer + 1 = the ambassador's). An actor
    whose chain ends anywhere but at a guide (unknown actor, no parent, a cycle) is
    unattributed and absent from the result. Iterative, so deep cascades cannot overflow.
    """
    generation: dict[str, int] = {}
    root: dict[str, str] = {}
    dead: set[str] = set()
    for actor in actor_ids:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = actor
        base: tuple[int, str] | None = None
        while current is not None:
            if current in generation:
                base = (generation[current], root[current])
                break
            if current in dead or current in on_path:
                break
            if is_guide(current):
                generation[current], root[current] = 0, current
                base = (0, current)
                break
            path.append(current)
            on_path.add(current)
            current = parent(current)
        if base is None:
            dead.update(path)
            continue
        for depth, node in enumerate(reversed(path), start=1):
            generation[node] = base[0] + depth
            root[node] = base[1]
    return Lineage(generation, root)


# --------------------------------------------------------------------------- disclosure


# Breakdowns that are disclosure-controlled, as (path to the mapping, leaf keys inside each
# cell or None when the cell is the value itself).
DISCLOSED_BREAKDOWNS: tuple[tuple[tuple[str, ...], tuple[str, ...] | None], ...] = (
    (("equity", "by_target_group"), ("referred", "welcomed")),
    (("areas", "welcomed_by_area"), None),
    (("referrers", "referrals_by_sector"), None),
    (("cascade", "reach_by_guide"), None),
    (("readiness", "by_sector"), ("activated", *READINESS_LEVELS)),
    (("loneliness", "referral", "scores"), None),
    (("loneliness", "week_12", "scores"), None),
)
# Single counts hidden when small, and values worked out over a base (a share, a mean), hidden
# when that base is small: (path of the value, path of its base).
DISCLOSED_COUNTS: tuple[tuple[str, ...], ...] = (
    ("loneliness", "referral", "measured"),
    ("loneliness", "week_12", "measured"),
    ("loneliness", "paired"),
)
DISCLOSED_BY_BASE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("loneliness", "referral", "lonely_share"), ("loneliness", "referral", "measured")),
    (("loneliness", "week_12", "lonely_share"), ("loneliness", "week_12", "measured")),
    (("loneliness", "mean_change"), ("loneliness", "paired")),
)


def is_small(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SMALL_CELL


def _at(tree: Any, path: tuple[str, ...]) -> Any:
    """The value at `path`, None where the document has no such part (a section that is null,
    or a snapshot taken before the section existed)."""
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def disclose(metrics: Mapping[str, Any], *, suppress: bool) -> dict[str, Any]:
    """A copy of `metrics` with every small cell nulled and listed in `suppressed`: breakdown
    cells and single counts of 1..4, and shares and means whose base is 1..4."""
    result = copy.deepcopy(dict(metrics))
    suppressed: list[str] = []

    def hide(path: tuple[str, ...]) -> None:
        _at(result, path[:-1])[path[-1]] = None
        suppressed.append(".".join(path))

    if suppress:
        for path, leaves in DISCLOSED_BREAKDOWNS:
            breakdown = _at(result, path)
            for key in sorted(breakdown or {}):
                if leaves is None:
                    if is_small(breakdown[key]):
                        hide((*path, key))
                    continue
                for leaf in leaves:
                    if is_small(breakdown[key][leaf]):
                        hide((*path, key, leaf))
        # Bases are judged on the undisclosed numbers, before the counts below hide them.
        for path, base in DISCLOSED_BY_BASE:
            if is_small(_at(metrics, base)) and _at(result, path) is not None:
                hide(path)
        for path in DISCLOSED_COUNTS:
            if is_small(_at(result, path)):
                hide(path)
    result["suppressed"] = suppressed
    return result


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """One (path, value) per leaf, in the response's order; the `suppressed` list is implied
    by the empty cells, so it is left out."""
    rows: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        if not prefix and key == "suppressed":
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            rows.extend(flatten(value, path))
        elif isinstance(value, list):
            # A list of rows (the cascade's generations): one path per row by its position.
            for position, item in enumerate(value):
                at = f"{path}.{position}"
                rows.extend(flatten(item, at) if isinstance(item, Mapping) else [(at, item)])
        else:
            rows.append((path, value))
    return rows


# --------------------------------------------------------------------------- schedule


def next_run(cron: str, after: datetime) -> datetime:
    """The next time the cron expression (read on the Copenhagen wall clock) fires, in UTC."""
    if not croniter.is_valid(cron):
        raise ValueError(f"not a valid cron expression: {cron!r} (e.g. '0 2 * * *')")
    return croniter(cron, local(after)).get_next(datetime).astimezone(UTC)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class NightlyPeriods:
    yesterday: Period
    last_30_days: Period
    all_time: Period

    def items(self) -> list[tuple[str, Period]]:
        return [("yesterday", self.yesterday), ("last_30_days", self.last_30_days), ("all_time", self.all_time)]


def nightly_periods(now: datetime) -> NightlyPeriods:
    """Yesterday, the 30 days ending yesterday, and all time, on the Copenhagen calendar."""
    yesterday = local(now).date() - timedelta(days=1)
    return NightlyPeriods(
        yesterday=Period(yesterday, yesterday),
        last_30_days=Period(yesterday - timedelta(days=29), yesterday),
        all_time=Period(None, None),
    )
