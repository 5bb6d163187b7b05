"""What a run of events or a tick of the timer loop works on: the facts it touches, read in a
few queries up front, changed in memory in event order, and written back in bulk at the end.

Per event, the rules used to cost a dozen queries and flushes; a batch reads each table once
and writes each table once, with the same decisions in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from services.notifications import store
from services.notifications.domain import (
    PARTICIPATION_RULES,
    PARTICIPATION_WEEKS,
    Community,
    Notify,
    Recipient,
    Referral,
    Rule,
    Timer,
    TimerKey,
    participation_subject,
)
from services.notifications.store import TimerRecord

F = TypeVar("F", Referral, Recipient, Community)


class Known(Generic[F]):
    """Facts of one kind by id: which were read from the database, which the batch changed."""

    def __init__(self, load: Callable[[Session, Iterable[str]], Mapping[str, F]]) -> None:
        self._load: Callable[[Session, Iterable[str]], Mapping[str, F]] = load
        self.facts: dict[str, F] = {}
        self.stored: set[str] = set()  # read from the database
        self._looked_up: set[str] = set()
        self._dirty: set[str] = set()

    def load(self, session: Session, ids: Iterable[str]) -> None:
        wanted = [i for i in dict.fromkeys(ids) if i not in self._looked_up]
        if wanted:
            found = self._load(session, wanted)
            self._looked_up.update(wanted)
            self.facts.update(found)
            self.stored.update(found)

    def get(self, key: str) -> F | None:
        return self.facts.get(key)

    def put(self, key: str, fact: F) -> None:
        self.facts[key] = fact
        self._dirty.add(key)

    def created(self) -> set[str]:
        """The ids the batch put that the database did not have."""
        return {k for k in self._dirty if k not in self.stored}

    def changes(self) -> tuple[list[F], list[F]]:
        """(new, changed) facts, for the one insert and the one update of the batch."""
        new = [self.facts[k] for k in self._dirty if k not in self.stored]
        changed = [self.facts[k] for k in self._dirty if k in self.stored]
        return new, changed


class Batch:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.referrals: Known[Referral] = Known(store.referrals)
        self.recipients: Known[Recipient] = Known(store.recipients)
        self.communities: Known[Community] = Known(store.communities)
        self.timers: dict[tuple[str, str], TimerRecord] = {}
        self._timer_subjects: set[str] = set()
        self._directory: list[Recipient] | None = None
        self.decided: list[Notify] = []  # messages to record, in the order they were decided
        self.answered: list[str] = []  # follow-up questions' subjects whose answer came
        self.erased: set[str] = set()  # referrals whose citizen was erased (`service.erasure`)

    def load(
        self,
        *,
        referral_ids: Iterable[str] = (),
        actor_ids: Iterable[str] = (),
        community_ids: Iterable[str] = (),
        timers: Sequence[TimerRecord] = (),
    ) -> None:
        """Read what the work touches: the referrals (and their communities and referrers),
        the people, the communities, and every timer about those referrals and people."""
        referral_ids, actor_ids = list(referral_ids), list(actor_ids)
        self.referrals.load(self.session, referral_ids)
        referrals = [referral for referral in map(self.referrals.get, referral_ids) if referral is not None]
        self.recipients.load(self.session, [*actor_ids, *(referral.referrer_id for referral in referrals)])
        self.communities.load(self.session, [*community_ids, *(referral.community_id for referral in referrals)])
        for record in timers:  # already read (and locked) by the caller
            self.timers[(record.rule, record.subject_id)] = record
            self._timer_subjects.add(record.subject_id)
        # A referral's timers are written with the referral: one not stored yet has none.
        known = [referral.referral_id for referral in referrals if referral.referral_id in self.referrals.stored]
        asked = [participation_subject(rid, weeks) for rid in known for weeks in PARTICIPATION_WEEKS]
        wanted = dict.fromkeys([*known, *asked, *actor_ids])
        subjects = [subject for subject in wanted if subject not in self._timer_subjects]
        for record in store.timers_of(self.session, subjects):
            self.timers.setdefault((record.rule, record.subject_id), record)
        self._timer_subjects.update(subjects)

    def directory(self) -> list[Recipient]:
        """Everyone in the directory, in actor order (read once per batch)."""
        if self._directory is None:
            stored = {person.actor_id: person for person in store.directory(self.session)}
            stored.update(self.recipients.facts)
            self._directory = [stored[k] for k in sorted(stored)]
        return self._directory

    # ------------------------------------------------------------------ timers

    def timer(self, rule: Rule, subject_id: str) -> TimerRecord | None:
        return self.timers.get((str(rule), subject_id))

    def schedule(self, planned: Timer, *, keep_later: bool = False) -> None:
        """Create the timer, or move an existing one (still scheduled) to the new due time.

        `keep_later`: only move it later (a new referral postpones a dormancy nudge, never the
        other way round). A fired or cancelled timer is not revived: its rule has done its job.
        """
        key = (str(planned.rule), planned.subject_id)
        record = self.timers.get(key)
        if record is None:
            self.timers[key] = TimerRecord(
                rule=str(planned.rule),
                subject_id=planned.subject_id,
                referral_id=planned.referral_id,
                due_at=planned.due_at,
                status="scheduled",
                created_at=self.now,
            )
        elif record.status == "scheduled" and (not keep_later or planned.due_at > record.due_at):
            record.due_at, record.changed = planned.due_at, True

    def cancel(self, referral_id: str, keys: Iterable[TimerKey]) -> None:
        """Cancel the referral's scheduled timers among `keys` (rule, subject)."""
        for rule, subject_id in keys:
            record = self.timer(rule, subject_id)
            if record is not None and record.status == "scheduled" and record.referral_id == referral_id:
                record.status, record.settled_at, record.changed = "cancelled", self.now, True

    def settle(self, record: TimerRecord, again_at: datetime | None) -> None:
        """A fired timer looks again at `again_at`, or is done."""
        if again_at is not None:
            record.due_at = again_at
        else:
            record.status, record.settled_at = "fired", self.now
        record.changed = True

    # ------------------------------------------------------------------ writing

    def new_referrals(self) -> set[str]:
        """The referrals this batch creates. Nothing about them can be in the database yet: a
        referral's timers and messages are written with it, in this transaction, by the one
        consumer of its events (a redelivery finds the referral stored and plans nothing). So
        their rows are inserted without looking for conflicts, as the referrals' rows are."""
        return self.referrals.created()

    def save(self) -> None:
        new_referrals = self.new_referrals()
        store.save_facts(self.session, self.referrals.changes(), self.recipients.changes(), self.communities.changes())
        store.save_timers(self.session, self.timers.values(), new_referrals)
        if self.answered:
            store.mark_answered(self.session, self.answered, [str(rule) for rule in PARTICIPATION_RULES], self.now)
