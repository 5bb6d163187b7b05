"""Demo preferences for `make run` (DEMO=1): the directory itself arrives as events from the
referrals and catalogue services' demo worlds; here only what people set in this service."""

from __future__ import annotations

import asyncio
import logging
from typing import TypedDict

from services.notifications import store
from services.notifications.engine import Engine
from shared.demo import DEMO_ACTORS
from shared.runtime import Runtime

log = logging.getLogger("vejviser.notifications.demo")


class DemoPreference(TypedDict):
    channels: list[str]
    opted_out: list[str]
    quiet: tuple[str, str]
    cap: int


DEMO_PREFERENCES: dict[str, DemoPreference] = {
    # The guide wants everything by e-mail, but not the weekly digest (she sees it all anyway).
    DEMO_ACTORS["guide"]: {
        "channels": ["inbox", "email"],
        "opted_out": ["weekly_digest"],
        "quiet": ("21:00", "07:00"),
        "cap": 20,
    },
    # The ambassador is a volunteer: later evenings, fewer messages.
    DEMO_ACTORS["ambassador"]: {"channels": ["inbox", "email"], "opted_out": [], "quiet": ("22:00", "08:00"), "cap": 3},
}


def seed(runtime: Runtime, engine: Engine) -> bool:
    with runtime.db.transaction() as session:
        if not store.is_empty(session):
            return False
        now = engine.clock.now()
        for actor_id, p in DEMO_PREFERENCES.items():
            session.add(
                store.PreferenceRow(
                    recipient_id=actor_id,
                    channels=p["channels"],
                    opted_out=p["opted_out"],
                    quiet_start=p["quiet"][0],
                    quiet_end=p["quiet"][1],
                    daily_cap=p["cap"],
                    updated_at=now,
                )
            )
    return True


async def seed_in_background(runtime: Runtime, engine: Engine) -> None:
    try:
        if await asyncio.to_thread(seed, runtime, engine):
            log.info("demo preferences loaded")
    except Exception as exc:  # the demo must never stop the service
        log.warning("demo seed failed: %s", type(exc).__name__)
