"""shared/heap.py: what start-up made is left out of later collections, once per process."""

from __future__ import annotations

import gc

from shared import heap


def test_settling_freezes_what_is_alive_once_per_process() -> None:
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    made_later = [[] for _ in range(1000)]  # cycles and containers made after start-up
    heap.settle()
    assert gc.get_freeze_count() == frozen  # not again: what later apps leave stays collectable
    assert made_later
