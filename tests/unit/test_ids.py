"""Time-ordered ids: RFC 9562 UUIDv7 layout, ordering across milliseconds, uniqueness."""

from __future__ import annotations

import time
import uuid

from shared.events import Envelope
from shared.events.referrals import ReferralCreated
from shared.ids import new_id, uuid7


def test_uuid7_has_version_7_the_rfc_variant_and_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after


def test_ids_from_later_milliseconds_sort_after_earlier_ones() -> None:
    earlier = new_id()
    time.sleep(0.002)
    later = new_id()
    assert earlier < later
    assert uuid.UUID(later).int >> 80 > uuid.UUID(earlier).int >> 80


def test_ids_are_unique_within_one_millisecond() -> None:
    ids = [new_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)


def test_envelopes_get_time_ordered_ids() -> None:
    event = ReferralCreated(referral_id="r-1", citizen_ref="c-1", community_id="k-1", referrer_id="a-1")
    envelope = Envelope.wrap(event, source="/services/referrals")
    assert uuid.UUID(envelope.id).version == 7
