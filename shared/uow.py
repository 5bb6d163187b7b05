"""The unit of work: one transaction, the events it stages, and the relay woken after commit.

    with runtime.unit_of_work() as uow:
        referral = store.add_referral(uow.session, ...)
        uow.stage(ReferralCreated(...))

Everything inside commits together or not at all; the staged events reach the outbox in the
same transaction (transactional outbox), and the relay is told only once the commit holds.
`runtime.write(work)` and `runtime.read(work)` do the same for a function and return what it
returns, typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from shared.clock import Clock
from shared.events import Envelope, Event
from shared.outbox import Outbox


class UnitOfWork:
    """A session in one transaction, plus the events staged in it."""

    def __init__(self, session: Session, outbox: Outbox, *, source: str, clock: Clock) -> None:
        self.session = session
        self._outbox = outbox
        self._source = source
        self._clock = clock
        self.staged: list[Envelope] = []

    def now(self) -> datetime:
        return self._clock.now()

    def stage(self, *events: Event, time: datetime | None = None) -> list[Envelope]:
        """Wrap `events` as this service's CloudEvents (at `time`, else now) and stage them."""
        moment = time or self._clock.now()
        envelopes = [Envelope.wrap(e, source=self._source, time=moment) for e in events]
        self.stage_envelopes(envelopes)
        return envelopes

    def stage_envelopes(self, envelopes: Sequence[Envelope], payloads: Sequence[bytes] | None = None) -> None:
        """Stage envelopes that already exist (ingested from a municipal system, or replayed);
        `payloads`, their JSON where it is known already (`parse_object` measured it)."""
        self._outbox.add(self.session, *envelopes, payloads=payloads)
        self.staged.extend(envelopes)
