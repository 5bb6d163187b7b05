"""Referrals as one person reads them: their communities' names, the loneliness moments
recorded, the referrer's note (opened for those `access.sees_note` allows), and the first name
and phone the citizen agreed to share, opened from the citizen's sealed contact data at read
time for those who may see it (`access.sees_shared_contact`). Both are opened with the
citizen's key from the key store; an erased citizen's are gone.

Every read is written to the audit log (`audit.py`): one entry per citizen shown (a list) or
per referral (one referral, a move), and one per note and per shared contact opened; in the
caller's unit of work when it writes anyway, else in one unit of its own before the answer
leaves (no unaudited read reaches anyone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals import access, audit, store
from services.referrals.audit import Read, Reader
from services.referrals.crypto import CitizenKey, CitizenVault, opened, opened_note
from services.referrals.tables import Citizen, Referral
from shared.principal import Principal
from shared.runtime import Runtime
from shared.uow import UnitOfWork

# How referrals are read: one by one (a referral, a move) or as a list.
ShownAs = Literal["referral", "list"]


@dataclass(frozen=True)
class SharedContact:
    first_name: str
    phone: str | None


@dataclass(frozen=True)
class Shown:
    """Referrals with what is shown beside them, as one person reads them at `now`."""

    referrals: list[Referral]
    community_names: dict[str, str]
    now: datetime
    shared_contacts: dict[str, SharedContact] = field(default_factory=dict)  # by referral id
    notes: dict[str, str] = field(default_factory=dict)  # by referral id, for those who see them
    loneliness: dict[str, list[str]] = field(default_factory=dict)  # moments recorded, by referral id


class Views:
    def __init__(self, runtime: Runtime, vault: CitizenVault) -> None:
        self.runtime, self.vault = runtime, vault

    def read(self, principal: Reader, find: Callable[[Session], list[Referral]], what: ShownAs = "referral") -> Shown:
        """A read: the referrals `find` returns, shown to `principal` (audited as `what`)."""
        shown = self.runtime.read(lambda session: self.build(session, principal, find(session)))
        self.audited(principal, shown_reads(shown, what))
        return shown

    def audited(self, principal: Reader, reads: Sequence[Read]) -> None:
        """After a read-only unit: record what it showed, in a unit of work of its own."""
        audit.record_apart(self.runtime, principal, reads)

    def in_unit(self, uow: UnitOfWork, principal: Reader, referrals: list[Referral]) -> Shown:
        """Inside a writing unit of work (a move, a new referral): the audit joins it."""
        shown = self.build(uow.session, principal, referrals)
        self.audit(uow, principal, shown, "referral")
        return shown

    def build(self, session: Session, principal: Principal, referrals: list[Referral]) -> Shown:
        ids = [r.referral_id for r in referrals]
        notes = [r for r in referrals if r.note_ciphertext is not None and _sees_note(principal, r)]
        contacts = [r for r in referrals if r.share_contact and _sees_shared_contact(principal, r)]
        keys = self.vault.keys_of({r.citizen_ref for r in [*notes, *contacts]}) if notes or contacts else {}
        return Shown(
            referrals=referrals,
            community_names=store.community_names(session, [r.community_id for r in referrals]),
            now=self.runtime.clock.now(),
            shared_contacts=self._shared_contacts(session, contacts, keys),
            loneliness=store.loneliness_moments(session, ids),
            notes=_notes(notes, keys),
        )

    def audit(self, uow: UnitOfWork, principal: Reader, shown: Shown, what: ShownAs) -> None:
        audit.record(uow.session, principal, shown_reads(shown, what), uow.now())

    def _shared_contacts(
        self, session: Session, wanted: list[Referral], keys: dict[str, CitizenKey]
    ) -> dict[str, SharedContact]:
        refs = {r.citizen_ref for r in wanted if r.citizen_ref in keys}
        if not refs:
            return {}
        citizens = {c.citizen_ref: c for c in session.scalars(select(Citizen).where(Citizen.citizen_ref.in_(refs)))}
        found: dict[str, SharedContact] = {}
        for referral in wanted:
            contact = _open_shared(citizens.get(referral.citizen_ref), keys.get(referral.citizen_ref))
            if contact is not None:
                found[referral.referral_id] = contact
        return found


def _sees_note(principal: Principal, referral: Referral) -> bool:
    return access.sees_note(
        principal,
        referrer_id=referral.referrer_id,
        companion_id=referral.companion_id,
        community_id=referral.community_id,
        share_note=referral.share_note,
    )


def _sees_shared_contact(principal: Principal, referral: Referral) -> bool:
    return access.sees_shared_contact(
        principal,
        referrer_id=referral.referrer_id,
        companion_id=referral.companion_id,
        community_id=referral.community_id,
    )


def _notes(referrals: list[Referral], keys: dict[str, CitizenKey]) -> dict[str, str]:
    found: dict[str, str] = {}
    for r in referrals:
        note = opened_note(keys.get(r.citizen_ref), r.referral_id, r.note_ciphertext)
        if note is not None:  # else none, or erased: the note is gone
            found[r.referral_id] = note
    return found


def _open_shared(citizen: Citizen | None, key: CitizenKey | None) -> SharedContact | None:
    data = opened(key, citizen.contact_ciphertext if citizen else None, CitizenKey.open_contact)
    if data is None:
        return None
    name, phone = access.first_name(data.get("name")), data.get("phone") or None
    return SharedContact(first_name=name, phone=phone) if name or phone else None


def shown_reads(shown: Shown, what: ShownAs) -> list[Read]:
    """What `shown` lets its reader see: a list names each citizen once, a referral is read
    as itself; each note and each shared contact opened is a read of its own."""
    by_id = {r.referral_id: r for r in shown.referrals}
    if what == "list":
        reads = [Read(r.citizen_ref, "list") for r in shown.referrals]
    else:
        reads = [Read(r.citizen_ref, what, r.referral_id) for r in shown.referrals]
    reads += [Read(by_id[rid].citizen_ref, "note", rid) for rid in shown.notes]
    reads += [Read(by_id[rid].citizen_ref, "shared_contact", rid) for rid in shown.shared_contacts]
    return reads
