"""Demo preferences for `make run` (DEMO=1): the directory itself arrives as events from the
referrals and catalogue services' demo worlds; here only what people set in this service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

from services.notifications import store
from shared.demo import DEMO_ACTORS
from shared.runtime import Runtime
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.notifications.demo")


@dataclass(frozen=True)
class DemoPreference:
    channels: list[str]
    opted_out: list[str]
    quiet: tuple[str, str]
    cap: int


DEMO_PREFERENCES: dict[str, DemoPreference] = {
    # The guide wants everything by e-mail, but not the weekly digest (she sees it all anyway).
    DEMO_ACTORS["guide"]: DemoPreference(["inbox", "email"], ["weekly_digest"], ("21:00", "07:00"), 20),
    # The ambassador is a volunteer: later evenings, fewer messages.
    DEMO_ACTORS["ambassador"]: DemoPreference(["inbox", "email"], [], ("22:00", "08:00"), 3),
}


def seed(uow: UnitOfWork) -> bool:
    if not store.is_empty(uow.session):
        return False
    for actor_id, preference in DEMO_PREFERENCES.items():
        uow.session.add(
            store.PreferenceRow(
                recipient_id=actor_id,
                channels=preference.channels,
                opted_out=preference.opted_out,
                quiet_start=preference.quiet[0],
                quiet_end=preference.quiet[1],
                daily_cap=preference.cap,
                updated_at=uow.now(),
            )
        )
    return True


def seeding(runtime: Runtime) -> Callable[[asyncio.Event], Coroutine[None, None, None]]:
    """The background job that loads the demo preferences once, when the database is empty."""

    async def job(stop: asyncio.Event) -> None:
        try:
            if await asyncio.to_thread(runtime.write, seed):
                log.info("demo preferences loaded")
        except Exception as exc:  # the demo must never stop the service
            log.warning("demo seed failed: %s", type(exc).__name__)

    return job
