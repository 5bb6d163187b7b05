"""The retention job over real HTTP, NATS and SQLite + PostgreSQL: a world of citizens whose
referrals ended at different times (the service's clock moved back to make it), then a run
erases exactly those past the profile's 12 months, publishes its counts and logs no one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from services.referrals.service.retention import months_before
from shared.clock import FakeClock, local, utcnow
from tests.helpers import token
from tests.integration.referrals.support import CONTACT, GUIDE, PROF, Svc, running

ADMIN = token("admin", "admin-ringsted")
MONTH = timedelta(days=30)


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def logged() -> Iterator[Kept]:
    kept, logger = Kept(), logging.getLogger("vejviser")
    logger.addHandler(kept)
    try:
        yield kept
    finally:
        logger.removeHandler(kept)


class World:
    """Citizens made at moments in the past, on the service's own (fake) clock."""

    def __init__(self, svc: Svc, now: datetime) -> None:
        self.svc, self.now = svc, now
        self.clock = FakeClock(now)
        svc.served.runtime.clock = self.clock

    def at(self, ago: timedelta) -> None:
        self.clock.set(self.now - ago)

    async def citizen(self, ago: timedelta) -> str:
        self.at(ago)
        return await self.svc.citizen(PROF)

    async def referral(self, ref: str, ago: timedelta) -> str:
        self.at(ago)
        return str((await self.svc.referral(PROF, citizen_ref=ref))["referral_id"])

    async def move(self, tok: str, rid: str, action: str, ago: timedelta, **body: object) -> None:
        self.at(ago)
        await self.svc.ok(tok, "POST", f"/v1/referrals/{rid}/{action}", json=body or None)


async def test_the_retention_run_erases_exactly_the_citizens_past_the_limit(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        now = utcnow()
        w = World(svc, now)
        limit = now - months_before(now, 12)  # twelve calendar months, as a span
        refs: dict[str, str] = {}

        # Past the limit: a referral cancelled 13 months ago; a welcome 16 months ago (it ended
        # 12 weeks later); registered 13 months ago and never referred.
        refs["cancelled_long_ago"] = ref = await w.citizen(20 * MONTH)
        await w.move(PROF, await w.referral(ref, 14 * MONTH), "cancel", limit + 5 * timedelta(days=1))
        refs["welcomed_long_ago"] = ref = await w.citizen(20 * MONTH)
        await w.move(CONTACT, await w.referral(ref, 17 * MONTH), "welcome", 16 * MONTH)
        refs["never_referred"] = await w.citizen(limit + timedelta(days=1))
        # Within it: cancelled 11 months ago; welcomed 14 months ago (ended 12 weeks later,
        # less than a year ago, though the welcome itself is older); registered 11 months ago;
        # an open referral from 20 months ago; an old rejection and a recent no-show.
        refs["cancelled_lately"] = ref = await w.citizen(20 * MONTH)
        await w.move(PROF, await w.referral(ref, 12 * MONTH), "cancel", 11 * MONTH)
        refs["welcomed_lately"] = ref = await w.citizen(20 * MONTH)
        await w.move(CONTACT, await w.referral(ref, 15 * MONTH), "welcome", limit + 60 * timedelta(days=1))
        refs["registered_lately"] = await w.citizen(11 * MONTH)
        refs["still_open"] = ref = await w.citizen(20 * MONTH)
        await w.referral(ref, 20 * MONTH)
        refs["ended_twice"] = ref = await w.citizen(20 * MONTH)
        await w.move(CONTACT, await w.referral(ref, 20 * MONTH), "reject", 19 * MONTH, reason="full")
        await w.move(CONTACT, await w.referral(ref, 7 * MONTH), "no_show", 6 * MONTH)
        # Erased on request long ago: not erased again, not counted.
        erased_before = await w.citizen(20 * MONTH)
        await svc.ok(GUIDE, "DELETE", f"/v1/citizens/{erased_before}")
        w.at(timedelta(0))

        assert (await svc.call(GUIDE, "POST", "/v1/retention/run")).status_code == 403
        counted = await svc.ok(ADMIN, "POST", "/v1/retention/run", params={"dry_run": True})
        assert (counted["citizens_erased"], counted["dry_run"], counted["months_after_end"]) == (3, True, 12)
        assert not any([(await svc.ok(GUIDE, "GET", f"/v1/citizens/{ref}"))["erased"] for ref in refs.values()])

        with logged() as log:
            done = await svc.ok(ADMIN, "POST", "/v1/retention/run")
        assert (done["citizens_erased"], done["referrals_cancelled"], done["dry_run"]) == (3, 0, False)
        erased = {name for name, ref in refs.items() if (await svc.ok(GUIDE, "GET", f"/v1/citizens/{ref}"))["erased"]}
        assert erased == {"cancelled_long_ago", "welcomed_long_ago", "never_referred"}
        assert log.messages and not [m for m in log.messages if "c-" in m]  # counts, never whom

        applied = await svc.wait_events(1, type_suffix="RetentionApplied.v1")
        assert applied[-1].data == {"run_on": done["run_on"], "citizens_erased": 3, "referrals_cancelled": 0}
        gone = {e.data["citizen_ref"] for e in await svc.wait_events(4, type_suffix="CitizenErased.v1")}
        assert gone == {refs[name] for name in erased} | {erased_before}

        again = await svc.ok(ADMIN, "POST", "/v1/retention/run")
        assert again["citizens_erased"] == 0

        # A year on, those within the limit today are past it, except the open referral.
        w.clock.set(now + 13 * MONTH)
        later = await svc.ok(ADMIN, "POST", "/v1/retention/run", params={"dry_run": True})
        assert later["citizens_erased"] == 4

        # The operator command counts the same (on the real clock, so as today: none left).
        settings = svc.service.settings
        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "KEY_STORE_URL": settings.key_store_url,
            "CITIZEN_KEK_FILE": settings.citizen_kek_file,
            "NATS_URL": svc.nats_url,
        }
        command = [sys.executable, "-m", "services.referrals", "retention", "--dry-run"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert "0 citizens would be erased" in result.stdout and "12 months" in result.stdout


async def test_the_nightly_run_comes_at_retention_at(database_url: str, nats_clean: str) -> None:
    soon = (local(utcnow()) + timedelta(seconds=4)).time().replace(microsecond=0)
    async with running(database_url, nats_clean, retention_at=soon) as svc:
        applied = await svc.wait_events(1, type_suffix="RetentionApplied.v1")
        assert applied[0].data["citizens_erased"] == 0
        assert applied[0].data["run_on"] == local(applied[0].time).date().isoformat()
