"""What one unit of work knows of referrers, citizens, referrals and communities.

Applying a batch of ingested events one by one would ask the database about each id it
meets (does this referral exist? this citizen?) and flush after each event: two or three
round trips an event. Instead a unit of work keeps what it has loaded or added (`Seen`,
in `session.info`), loads every id a batch names in one query per table before the first
event (`prefetch`, the ingestion's prepare step), and leaves new rows pending until the unit of work flushes them
together. A savepoint that is rolled back takes its new rows with it: `Seen` notices that
an object left the session and answers "absent" again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction

from services.referrals.service.bulk import Bulk
from services.referrals.tables import Base, Citizen, Community, Referral, Referrer
from shared.db import among
from shared.errors import DomainError, Invalid, NotFound

M = TypeVar("M", bound=Base)

KEYS: dict[type[Base], InstrumentedAttribute[str]] = {
    Referrer: Referrer.actor_id,
    Citizen: Citizen.citizen_ref,
    Referral: Referral.referral_id,
    Community: Community.community_id,
}
# Which fields of an event's data name which kind of row.
FIELDS: dict[type[Base], tuple[str, ...]] = {
    Referrer: ("actor_id", "referrer_id", "companion_id", "activated_by"),
    Citizen: ("citizen_ref",),
    Referral: ("referral_id", "to_referral_id"),
    Community: ("community_id", "from_community_id"),
}
CHUNK = 500  # ids per IN (…): within SQLite's parameter limit


@dataclass
class Touched:
    """The ids a batch of events names, per table."""

    ids: dict[type[Base], set[str]] = field(default_factory=lambda: {model: set() for model in KEYS})

    @classmethod
    def of(cls, datas: Iterable[Mapping[str, object]]) -> Touched:
        touched = cls()
        for data in datas:
            for model, names in FIELDS.items():
                for name in names:
                    value = data.get(name)
                    if isinstance(value, str):
                        touched.ids[model].add(value)
        return touched


def prefetch(session: Session, datas: Iterable[Mapping[str, object]]) -> None:
    """Load every row the events' data name, one query per table (before the first is applied)."""
    Seen.of(session).prefetch(Touched.of(datas))


class Seen:
    KEY = "referrals.seen"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[tuple[type[Base], str], Base | None] = {}

    @classmethod
    def of(cls, session: Session) -> Seen:
        seen = session.info.get(cls.KEY)
        if not isinstance(seen, Seen):
            seen = session.info[cls.KEY] = cls(session)
            event.listen(session, "after_soft_rollback", seen._rolled_back)
        return seen

    def _rolled_back(self, _session: Session, _previous: SessionTransaction) -> None:
        self.known.clear()  # what was loaded or added since may be gone: ask again

    def prefetch(self, touched: Touched) -> None:
        # On PostgreSQL one parameter (`among`): psycopg rewrites a statement with hundreds of
        # placeholders on every call, a short one it prepares once.
        whole = self.session.get_bind().dialect.name == "postgresql"
        with self.session.no_autoflush:
            for model, ids in touched.ids.items():
                key = KEYS[model]
                wanted = sorted(ids)
                size = max(len(wanted), 1) if whole else CHUNK
                for start in range(0, len(wanted), size):
                    chunk = wanted[start : start + size]
                    query = select(model).where(among(self.session, key, chunk))
                    found = {getattr(row, key.key): row for row in self.session.scalars(query)}
                    for value in chunk:
                        self.known[(model, value)] = found.get(value)

    def get(self, model: type[M], key: str) -> M | None:
        found = self.known.get((model, key))
        if found is not None and not (found in self.session or Bulk.of(self.session).holds(found)):
            del self.known[(model, key)]  # written by a run that has ended, or gone with a savepoint
        if (model, key) not in self.known:
            with self.session.no_autoflush:
                self.known[(model, key)] = self.session.get(model, key)
        found = self.known[(model, key)]
        if found is None:
            return None
        assert isinstance(found, model)
        return found

    def add(self, row: Base) -> None:
        Bulk.of(self.session).add(self.session, row)
        self.known[(type(row), getattr(row, KEYS[type(row)].key))] = row


class Gone(DomainError):
    status = 410


def get_referrer(session: Session, actor_id: str, field: str = "referrer_id") -> Referrer:
    referrer = Seen.of(session).get(Referrer, actor_id)
    if referrer is None:
        raise Invalid(
            f"{field}: referrer {actor_id!r} is not known; activate them first (POST /v1/referrers)", field=field
        )
    return referrer


def get_citizen(session: Session, citizen_ref: str, *, field: str = "citizen_ref") -> Citizen:
    citizen = Seen.of(session).get(Citizen, citizen_ref)
    if citizen is None:
        raise NotFound(f"citizen {citizen_ref!r} is not registered", field=field)
    if citizen.erased_at is not None:
        raise Gone(f"citizen {citizen_ref!r} has been erased", field=field)
    return citizen


def get_referral(session: Session, referral_id: str) -> Referral:
    referral = Seen.of(session).get(Referral, referral_id)
    if referral is None:
        raise NotFound(f"referral {referral_id!r} does not exist")
    return referral
