"""The one-click welcome for volunteer-run communities: a community contact without an
account confirms the welcome from the signed, expiring link (shared/welcome.py).

The answer is a `WelcomePage` in Danish that names the community, never the citizen. A link
works once: after the welcome the referral is no longer open, so the second use answers 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from services.referrals import audit, domain
from services.referrals.audit import Read, Reader
from services.referrals.service.batch import Seen
from services.referrals.service.transitions import move
from services.referrals.settings import ReferralsSettings
from services.referrals.tables import Community, Referral
from shared.danish import da_date
from shared.errors import Conflict
from shared.events.referrals import WelcomeConfirmed
from shared.runtime import Runtime
from shared.uow import UnitOfWork
from shared.welcome import InvalidWelcomeToken, verify_welcome

CONFIRMED_BY = "welcome-link"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DONE = frozenset({domain.Status.welcomed, domain.Status.participating, domain.Status.ended})


@dataclass(frozen=True)
class WelcomePage:
    status: int
    title: str
    lines: tuple[str, ...]
    confirm: bool = False


def page(status: int, title: str, *lines: str, confirm: bool = False) -> WelcomePage:
    return WelcomePage(status, title, lines, confirm)


ALREADY = page(409, "Velkomsten er allerede bekræftet", "Velkomsten er allerede registreret. Tak!")


class Welcome:
    def __init__(self, runtime: Runtime, settings: ReferralsSettings) -> None:
        self.runtime, self.settings = runtime, settings

    def show(self, token: str, reader: Reader) -> WelcomePage:
        found = self._referral_id_of(token)
        if isinstance(found, WelcomePage):
            return found
        shown, read = self.runtime.read(
            lambda session: (_ask(_open_referral(session, found)), _read_of(session, found))
        )
        audit.record_apart(self.runtime, reader, read)
        return shown

    def confirm(self, token: str, reader: Reader) -> WelcomePage:
        found = self._referral_id_of(token)
        if isinstance(found, WelcomePage):
            return found

        def work(uow: UnitOfWork) -> WelcomePage:
            audit.record(uow.session, reader, _read_of(uow.session, found), uow.now())
            opened = _open_referral(uow.session, found)
            if isinstance(opened, WelcomePage):
                return opened
            referral, community = opened
            event = WelcomeConfirmed(
                referral_id=referral.referral_id, community_id=referral.community_id, confirmed_by=CONFIRMED_BY
            )
            move(uow.session, uow.stage(event)[0], event, referral)
            return page(200, "Tak for velkomsten!", f"Velkomsten i {community} er registreret.")

        try:
            return self.runtime.write(work)
        except Conflict:  # lost a race with another confirmation: the welcome is registered either way
            return ALREADY

    def _referral_id_of(self, token: str) -> str | WelcomePage:
        secret = self.settings.link_signing_key
        try:
            referral_id = verify_welcome(secret, token, now=_EPOCH)  # the signature alone
        except InvalidWelcomeToken:
            return page(404, "Linket virker ikke", "Linket er ikke gyldigt. Tjek, at hele linket er kopieret med.")
        try:
            verify_welcome(secret, token, now=self.runtime.clock.now())
        except InvalidWelcomeToken:
            return page(
                410,
                "Linket er udløbet",
                "Linket til at bekræfte velkomsten er udløbet.",
                "Kontakt fællesskabsguiden, hvis borgeren er blevet taget godt imod, så registrerer vi det.",
            )
        return referral_id


def _closed(referral: Referral, community: str) -> WelcomePage | None:
    status = domain.Status(referral.status)
    if status in DONE:
        return page(409, ALREADY.title, f"Velkomsten i {community} er allerede registreret. Tak!")
    if status not in domain.OPEN:
        return page(
            409,
            "Henvisningen er ikke længere aktiv",
            f"Henvisningen til {community} er afsluttet, så der er intet at bekræfte.",
        )
    return None


def _read_of(session: Session, referral_id: str) -> list[Read]:
    """Every page about a known referral names its community: a read of the citizen's referral."""
    referral = Seen.of(session).get(Referral, referral_id)
    return [Read(referral.citizen_ref, "referral", referral_id)] if referral else []


def _open_referral(session: Session, referral_id: str) -> tuple[Referral, str] | WelcomePage:
    """The referral and its community's name, or the page saying why there is nothing to do."""
    referral = Seen.of(session).get(Referral, referral_id)
    if referral is None:
        return page(404, "Henvisningen findes ikke", "Vi kan ikke finde henvisningen, som linket hører til.")
    row = session.get(Community, referral.community_id)
    community = row.name if row else "fællesskabet"
    return _closed(referral, community) or (referral, community)


def _ask(opened: tuple[Referral, str] | WelcomePage) -> WelcomePage:
    if isinstance(opened, WelcomePage):
        return opened
    referral, community = opened
    lines = [
        f"En borger er henvist til {community} den {da_date(referral.created_at)}.",
        "Når borgeren er kommet og er blevet taget godt imod, så tryk på knappen.",
    ]
    if referral.needs_accompaniment:
        lines.append("Borgeren kommer måske sammen med en, der følges med.")
    return page(200, f"Velkommen i {community}", *lines, confirm=True)
