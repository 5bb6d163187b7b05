"""shared/heap.py: what start-up made is left out of later collections, once per process, and a
batch's objects are not walked while it runs."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from shared import heap
from shared.db import Database
from shared.events import Envelope
from shared.events.catalogue import CommunityArchived
from shared.inbox import Inbox, Pair, Status, batched, process_batch


def test_settling_freezes_what_is_alive_once_per_process() -> None:
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    made_later: list[list[object]] = [[] for _ in range(1000)]  # cycles and containers made after start-up
    heap.settle()
    assert gc.get_freeze_count() == frozen  # not again: what later apps leave stays collectable
    assert made_later


def test_a_batch_holds_the_collector_back_until_the_last_overlapping_batch_is_done() -> None:
    assert gc.isenabled()
    first, second = heap.collect_after(), heap.collect_after()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()  # another consumer's batch, in another thread
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second batch is still running
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_the_cycles_a_batch_made_are_collected_after_it() -> None:
    class Node:
        other: Node

    with heap.collect_after():
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # a cycle: reference counting cannot free it
    made_after: list[list[object]] = [[] for _ in range(5000)]  # allocations set the collector going again
    assert gone() is None
    assert made_after


def test_batches_that_overlap_without_a_gap_still_collect_now_and_then() -> None:
    class Node:
        other: Node

    running = heap.collect_after()
    running.__enter__()
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    for _ in range(heap.HELD_BATCHES - 1):
        nxt = heap.collect_after()
        nxt.__enter__()  # the next batch starts before the running one is done
        running.__exit__(None, None, None)
        running = nxt
    assert gone() is not None and not gc.isenabled()
    nxt = heap.collect_after()
    nxt.__enter__()
    running.__exit__(None, None, None)  # the HELD_BATCHES-th finished without a gap
    assert gone() is None
    assert not gc.isenabled()  # a batch is still running
    nxt.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_turned_off_before_a_batch_stays_off() -> None:
    gc.disable()
    try:
        with heap.collect_after():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failing_batch_gives_the_collector_back() -> None:
    with pytest.raises(RuntimeError), heap.collect_after():
        raise RuntimeError("an event refused")
    assert gc.isenabled()


def test_a_consumers_batch_runs_with_the_collector_held_back(tmp_path: Path) -> None:
    metadata = MetaData()
    inbox = Inbox(metadata)
    db = Database(f"sqlite:///{tmp_path / 'heap.db'}")
    db.create_schema(metadata)
    seen: list[bool] = []

    def handler(_session: Session, _pairs: list[Pair]) -> None:
        seen.append(gc.isenabled())

    body = Envelope.wrap(CommunityArchived(community_id="k-1"), source="/test").to_json()
    outcomes = process_batch(db, inbox, "heap", [body], {CommunityArchived: batched(handler)})
    assert [o.status for o in outcomes] == [Status.processed]
    assert seen == [False]
    assert gc.isenabled()
