"""Retention: a citizen is kept for the municipality's `retention_months_after_end` (profile)
after their last referral ended, then erased by the nightly job through the same erasure path
as a request (`Citizens.erase`, reason `retention`), and the run's counts are published as
`RetentionApplied`. Never whom: not in the event, not in the log.

When a referral ended: a rejected, cancelled or no-show referral at its last change; a
referral that reached the welcome (welcomed, participating, ended) twelve weeks after the
welcome, when its last follow-up is due. A citizen with an open referral is never due; one
never referred counts from their registration, and so does one whose referrals (ingested,
back-dated) ended before they were registered here: nobody is erased the night after they
were registered.

The rule (`due`) is pure; `Retention` reads the facts, erases and publishes.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals import domain
from services.referrals.service.batch import Gone
from services.referrals.service.citizens import Citizens
from services.referrals.tables import Citizen, Referral
from shared.clock import COPENHAGEN, local
from shared.events.referrals import RetentionApplied
from shared.profile import profile
from shared.runtime import Runtime

log = logging.getLogger("vejviser.referrals.retention")

ACTOR = "retention"
# The 12-week follow-up is the last thing that happens to a welcomed referral.
WELCOMED_LASTS = timedelta(weeks=12)


@dataclass(frozen=True)
class ReferralFacts:
    status: domain.Status
    updated_at: datetime
    welcomed_at: datetime | None = None


@dataclass(frozen=True)
class CitizenFacts:
    citizen_ref: str
    registered_at: datetime
    referrals: tuple[ReferralFacts, ...] = ()


def months_before(moment: datetime, months: int) -> datetime:
    """The same Copenhagen wall-clock time `months` calendar months earlier (on the last day
    of a shorter month: 31 March less one month is 28 or 29 February)."""
    here = local(moment)
    year, month = divmod(here.year * 12 + here.month - 1 - months, 12)
    day = min(here.day, calendar.monthrange(year, month + 1)[1])
    return here.replace(year=year, month=month + 1, day=day).astimezone(UTC)


def ended_at(referral: ReferralFacts) -> datetime | None:
    """When the referral ended; None while it is open."""
    if referral.status in domain.OPEN:
        return None
    if referral.welcomed_at is not None:
        return referral.welcomed_at + WELCOMED_LASTS
    return referral.updated_at


def last_activity(citizen: CitizenFacts) -> datetime | None:
    """From when the citizen's retention counts; None while a referral of theirs is open."""
    ends = [ended_at(r) for r in citizen.referrals]
    known = [end for end in ends if end is not None]
    if len(known) < len(ends):
        return None
    return max([citizen.registered_at, *known])


def due(citizens: Iterable[CitizenFacts], now: datetime, months: int) -> list[str]:
    """The citizens past the limit at `now`: their last activity more than `months` ago."""
    cutoff = months_before(now, months)
    return [c.citizen_ref for c in citizens if (last := last_activity(c)) is not None and last < cutoff]


def next_run(after: datetime, at: time) -> datetime:
    """The next moment the Copenhagen wall clock shows `at`, strictly after `after` (UTC)."""
    here = local(after)
    for day in (here.date(), here.date() + timedelta(days=1)):
        candidate = datetime.combine(day, at, tzinfo=COPENHAGEN).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: tomorrow's run is always later")


def facts(session: Session, *, registered_before: datetime, citizen_ref: str | None = None) -> list[CitizenFacts]:
    """Citizens not erased and registered before `registered_before` (nobody registered later
    can be due), with their referrals (`citizen_ref`: only that one)."""
    wanted = [Citizen.erased_at.is_(None), Citizen.registered_at < registered_before]
    if citizen_ref is not None:
        wanted.append(Citizen.citizen_ref == citizen_ref)
    registered = dict(session.execute(select(Citizen.citizen_ref, Citizen.registered_at).where(*wanted)).tuples().all())
    referrals: dict[str, list[ReferralFacts]] = {ref: [] for ref in registered}
    rows = session.execute(
        select(Referral.citizen_ref, Referral.status, Referral.updated_at, Referral.welcomed_at)
        .join(Citizen, Citizen.citizen_ref == Referral.citizen_ref)
        .where(*wanted)
    ).tuples()
    for ref, status, updated_at, welcomed_at in rows:
        referrals[ref].append(ReferralFacts(domain.Status(status), updated_at, welcomed_at))
    return [CitizenFacts(ref, at, tuple(referrals[ref])) for ref, at in registered.items()]


@dataclass(frozen=True)
class RetentionReport:
    run_on: date
    dry_run: bool
    months_after_end: int
    citizens_erased: int  # with dry_run: would be
    referrals_cancelled: int


class Retention:
    def __init__(self, runtime: Runtime, citizens: Citizens, at: time) -> None:
        self.runtime, self.citizens, self.at = runtime, citizens, at

    def run(self, *, dry_run: bool = False) -> RetentionReport:
        now = self.runtime.clock.now()
        months = profile().retention_months_after_end
        cutoff = months_before(now, months)
        refs = self.runtime.read(lambda session: due(facts(session, registered_before=cutoff), now, months))
        run_on = local(now).date()
        if dry_run:
            return RetentionReport(run_on, True, months, len(refs), 0)
        erased = cancelled = 0
        for ref in refs:
            if not self._still_due(ref, now, months):
                continue
            try:
                result = self.citizens.erase(ref, reason="retention", actor_id=ACTOR)
            except Gone:  # erased meanwhile, on request or by an ingested erasure
                continue
            erased += 1
            cancelled += result.referrals_cancelled
        event = RetentionApplied(run_on=run_on, citizens_erased=erased, referrals_cancelled=cancelled)
        self.runtime.write(lambda uow: uow.stage(event))
        log.info("retention run %s: %d citizens erased, %d open referrals cancelled", run_on, erased, cancelled)
        return RetentionReport(run_on, False, months, erased, cancelled)

    def _still_due(self, citizen_ref: str, now: datetime, months: int) -> bool:
        """Asked again just before the erasure: a referral made since the selection keeps them."""
        cutoff = months_before(now, months)
        one = self.runtime.read(lambda s: facts(s, registered_before=cutoff, citizen_ref=citizen_ref))
        return due(one, now, months) == [citizen_ref]

    async def nightly(self, stop: asyncio.Event) -> None:
        """A run each night at `at` (Copenhagen), until `stop` is set."""
        while not stop.is_set():
            now = self.runtime.clock.now()
            wait = (next_run(now, self.at) - now).total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
                return
            try:
                await asyncio.to_thread(self.run)
            except Exception:
                log.exception("retention run failed; the next night tries again")
