"""Referrals as one person reads them: their communities' names, the loneliness moments
recorded, and the first name and phone the citizen agreed to share, opened from the citizen's
sealed contact data at read time for those who may see it (`access.sees_shared_contact`).

Every opening of shared contact data is written to the contact audit log, as a contact read
is: in the caller's unit of work when it writes anyway, else in one unit of its own before
the answer leaves (no unaudited read reaches anyone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.referrals import access, store
from services.referrals.crypto import CitizenVault, ContactUnreadable
from services.referrals.tables import Citizen, ContactAudit, Referral
from shared.principal import Principal
from shared.runtime import Runtime
from shared.uow import UnitOfWork

SHARED = "shared_contact"


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
    loneliness: dict[str, list[str]] = field(default_factory=dict)  # moments recorded, by referral id


class Views:
    def __init__(self, runtime: Runtime, vault: CitizenVault) -> None:
        self.runtime, self.vault = runtime, vault

    def read(self, principal: Principal, find: Callable[[Session], list[Referral]]) -> Shown:
        """A read: the referrals `find` returns, shown to `principal` (audited if it opened contact)."""
        shown = self.runtime.read(lambda session: self.build(session, principal, find(session)))
        self.audited(principal, shown)
        return shown

    def audited(self, principal: Principal, shown: Shown) -> None:
        """After a read: record what it opened, in a unit of work of its own."""
        if shown.shared_contacts:
            self.runtime.write(lambda uow: self.audit(uow, principal, shown))

    def in_unit(self, uow: UnitOfWork, principal: Principal, referrals: list[Referral]) -> Shown:
        """Inside a writing unit of work (a move, a new referral): the audit joins it."""
        shown = self.build(uow.session, principal, referrals)
        self.audit(uow, principal, shown)
        return shown

    def build(self, session: Session, principal: Principal, referrals: list[Referral]) -> Shown:
        ids = [r.referral_id for r in referrals]
        return Shown(
            referrals=referrals,
            community_names=store.community_names(session, [r.community_id for r in referrals]),
            now=self.runtime.clock.now(),
            shared_contacts=self._shared_contacts(session, principal, referrals),
            loneliness=store.loneliness_moments(session, ids),
        )

    def audit(self, uow: UnitOfWork, principal: Principal, shown: Shown) -> None:
        if not shown.shared_contacts:
            return
        by_id, now = {r.referral_id: r for r in shown.referrals}, uow.now()
        who = {"actor_id": principal.actor_id, "role": principal.role.value, "what": SHARED, "at": now}
        rows = [
            {
                **who,
                "citizen_ref": by_id[referral_id].citizen_ref,
                "purpose": f"first name and phone shared with the citizen's consent (referral {referral_id})",
            }
            for referral_id in shown.shared_contacts
        ]
        uow.session.execute(insert(ContactAudit), rows)  # one statement for a whole list

    def _shared_contacts(
        self, session: Session, principal: Principal, referrals: list[Referral]
    ) -> dict[str, SharedContact]:
        wanted = [
            r
            for r in referrals
            if r.share_contact
            and access.sees_shared_contact(
                principal, referrer_id=r.referrer_id, companion_id=r.companion_id, community_id=r.community_id
            )
        ]
        if not wanted:
            return {}
        refs = {r.citizen_ref for r in wanted}
        citizens = {c.citizen_ref: c for c in session.scalars(select(Citizen).where(Citizen.citizen_ref.in_(refs)))}
        found: dict[str, SharedContact] = {}
        for referral in wanted:
            contact = self._open(citizens.get(referral.citizen_ref))
            if contact is not None:
                found[referral.referral_id] = contact
        return found

    def _open(self, citizen: Citizen | None) -> SharedContact | None:
        if citizen is None or citizen.contact_ciphertext is None:
            return None
        try:
            data = self.vault.open(citizen.citizen_ref, citizen.wrapped_key, citizen.contact_ciphertext)
        except ContactUnreadable:  # erased: nothing to share any more
            return None
        name, phone = access.first_name(data.get("name")), data.get("phone") or None
        return SharedContact(first_name=name, phone=phone) if name or phone else None
