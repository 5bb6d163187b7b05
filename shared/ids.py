"""Identifiers for rows and events that Vejviser creates.

`new_id()` gives a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Because
they sort by creation time, every B-tree keyed by them (inboxes, projections, our own tables)
grows at its right edge instead of dirtying a random leaf page per insert. With random UUIDv4
keys the consume path wrote about one WAL page per event once the inbox outgrew SQLite's page
cache and slowed down as the database grew (bench/backbone.py, docs/architecture.md).

Do not use it where the creation time is itself personal data: `citizen_ref` stays UUIDv4,
so the reference does not tell when a citizen was first registered.
"""

from __future__ import annotations

import os
import time
import uuid


def _uuid7_bits() -> int:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 random bits; 74 are kept
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b: 62 bits
    return value


def uuid7() -> uuid.UUID:
    return uuid.UUID(int=_uuid7_bits())


def new_id() -> str:
    """A time-ordered UUID string (UUIDv7) for events and rows Vejviser creates."""
    text = f"{_uuid7_bits():032x}"  # as str(UUID) writes it, without making one (a batch makes thousands)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
