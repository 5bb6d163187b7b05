"""The garbage collector after start-up: what is alive then lives as long as the process.

CPython's oldest generation is collected by walking every tracked object, and a started
service holds some 150,000 of them (modules, pydantic and SQLAlchemy schemas, the app) that
never die. Measured on the referrals ingestion benchmark: each of those walks took 80–100 ms,
a seventh of the time a 3,000-event back-fill spent; after `gc.freeze()` 12–30 ms.
Cycles made later are collected as before; only the start-up objects are left alone.

A batch (a consumer's fetch, a `POST /v1/events`) is the other case: it builds thousands of
objects that live until it commits (envelopes, events, facts, rows), so the young generations
fill up and are walked again and again while nothing in them is garbage yet. `collect_after`
holds the collector back for the batch; the first allocation after it collects what is left.
Measured on notifications deciding 2,150 events on PostgreSQL: +11-13 % events/s. The garbage
a batch leaves is bounded by its size (`bus.ConsumerPolicy.batch_size`, `ingest.MAX_BATCH`),
and reference counting frees everything but cycles during it as before.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_settled = False
_holding = threading.Lock()
_holders = 0  # batches running now (consumers run theirs in worker threads)
_was_enabled = True
_finished_while_held = 0
# Consumers of several streams can overlap without a gap for as long as there is work: then the
# collector would never come back, and cycles would pile up. After this many batches finished
# without a gap, the one finishing collects anyway (12-30 ms with the start-up objects frozen).
HELD_BATCHES = 32


def settle() -> None:
    """Collect once, then exempt everything still alive from later collections. Once per
    process: a test process starts many apps, and what later apps leave behind must stay
    collectable."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()


@contextmanager
def collect_after() -> Iterator[None]:
    """No cyclic collection while the block runs (in any thread: the collector is one per
    process); collection resumes once the last overlapping block has left, and every
    `HELD_BATCHES` blocks if they overlap without a gap. If the collector was off before the
    first block, it stays off."""
    global _holders, _was_enabled, _finished_while_held
    with _holding:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        catch_up = False
        with _holding:
            _holders -= 1
            _finished_while_held += 1
            if _holders == 0:
                _finished_while_held = 0
                if _was_enabled:
                    gc.enable()
            elif _finished_while_held >= HELD_BATCHES:
                _finished_while_held = 0
                catch_up = _was_enabled
        if catch_up:
            gc.collect()


def collects_after(work: Callable[P, R]) -> Callable[P, R]:
    """`work` runs as one batch: in `collect_after`."""

    @functools.wraps(work)
    def batch(*args: P.args, **kwargs: P.kwargs) -> R:
        with collect_after():
            return work(*args, **kwargs)

    return batch
