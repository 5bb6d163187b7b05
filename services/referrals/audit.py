"""The audit log: every read of citizen-linked data, who read it, when, from which client and
for which declared purpose (`shared/purposes.py`).

Append-only in the database itself, not only by convention: a trigger refuses UPDATE and
DELETE (on PostgreSQL TRUNCATE too). It is created with the table (`after_create`) and by the
migration `referrals_0001` (services/referrals/migrations), so every database has it, and a bug,
a careless script or an erasure cascade cannot rewrite who read what. Changing the trigger
needs a new revision as well as the change here.

A read is written as one row per citizen (and per kind of read) in one statement, in the
reader's unit of work or in one of its own before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import DDL, BigInteger, Index, Integer, Select, String, Table, event, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.referrals.tables import Base
from shared.principal import Principal
from shared.purposes import PurposeCode
from shared.runtime import Runtime

SERVICE = "referrals"

# What a read showed: the record, its contact data, a note, the first name and phone shared
# with the community, a referral, a timeline, a list naming the citizen, an access export.
What = Literal["record", "contact", "note", "shared_contact", "referral", "timeline", "list", "export"]


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_citizen_at", "citizen_ref", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(30))
    service: Mapped[str] = mapped_column(String(30))
    client: Mapped[str | None] = mapped_column(String(40))
    citizen_ref: Mapped[str] = mapped_column(String(100))
    referral_id: Mapped[str | None] = mapped_column(String(100))
    what: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(30), index=True)


_REFUSED = "audit_log is append-only: entries are never changed or deleted"
AUDIT_LOG = cast(Table, AuditEntry.__table__)
for _statement in (
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
    f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
):
    event.listen(AUDIT_LOG, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION USING MESSAGE = '{_REFUSED} (' || TG_OP || ' refused)'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
):
    event.listen(AUDIT_LOG, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


@dataclass(frozen=True, kw_only=True)
class Reader(Principal):
    """A principal reading citizen-linked data: for a declared purpose, from a client.

    A `Principal` itself, so the access rules take it as they are; the use cases that show
    citizen-linked data ask for a `Reader`, so a read without a purpose does not type-check."""

    purpose: PurposeCode
    client: str | None = None

    @classmethod
    def of(cls, principal: Principal, purpose: PurposeCode, client: str | None = None) -> Reader:
        return cls(
            actor_id=principal.actor_id,
            role=principal.role,
            communities=principal.communities,
            purpose=purpose,
            client=client,
        )


@dataclass(frozen=True)
class Read:
    """One kind of read of one citizen's data (of one referral, where it was one)."""

    citizen_ref: str
    what: What
    referral_id: str | None = None


def record(session: Session, reader: Reader, reads: Iterable[Read], at: datetime) -> int:
    """Append one entry per distinct read, in one statement, in the session's transaction."""
    unique = list(dict.fromkeys(reads))
    rows = [
        {
            "at": at,
            "actor_id": reader.actor_id,
            "role": reader.role.value,
            "service": SERVICE,
            "client": reader.client,
            "citizen_ref": read.citizen_ref,
            "referral_id": read.referral_id,
            "what": read.what,
            "purpose": reader.purpose,
        }
        for read in unique
    ]
    if rows:
        # One statement for the whole list. Not `shared.db.insert_rows`: on SQLite it stores
        # times in another text form than the ORM binds, and the DPO's period filter compares them.
        session.execute(insert(AuditEntry), rows)
    return len(rows)


def record_apart(runtime: Runtime, reader: Reader, reads: Sequence[Read]) -> None:
    """After a read-only unit of work: its entries in a unit of their own, before the answer leaves."""
    if reads:
        runtime.write(lambda uow: record(uow.session, reader, reads, uow.now()))


@dataclass(frozen=True)
class AuditQuery:
    """The DPO's filters: `start` inclusive, `end` exclusive."""

    citizen_ref: str | None = None
    actor_id: str | None = None
    purpose: PurposeCode | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class AuditFound:
    total: int
    entries: list[AuditEntry] = field(default_factory=list)


def _filtered(query: AuditQuery) -> Select[AuditEntry]:
    found = select(AuditEntry)
    if query.citizen_ref:
        found = found.where(AuditEntry.citizen_ref == query.citizen_ref)
    if query.actor_id:
        found = found.where(AuditEntry.actor_id == query.actor_id)
    if query.purpose:
        found = found.where(AuditEntry.purpose == query.purpose)
    if query.start is not None:
        found = found.where(AuditEntry.at >= query.start)
    if query.end is not None:
        found = found.where(AuditEntry.at < query.end)
    return found


def search(session: Session, query: AuditQuery) -> AuditFound:
    """A page of the entries that match, newest first, and how many match in all."""
    filtered = _filtered(query)
    total = session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
    page = filtered.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(query.limit).offset(query.offset)
    return AuditFound(int(total), list(session.scalars(page)))


def of_citizen(session: Session, citizen_ref: str) -> list[AuditEntry]:
    """Every entry about one citizen, oldest first."""
    query = select(AuditEntry).where(AuditEntry.citizen_ref == citizen_ref)
    return list(session.scalars(query.order_by(AuditEntry.at, AuditEntry.id)))
