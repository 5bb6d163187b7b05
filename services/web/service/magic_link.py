"""Login by e-mail for volunteers (ambassadors and community contacts, who have no municipal
identity): ask for a link, get it by mail, use it once within minutes.

Who may: an ambassador is a referrer with the role ambassador whose work e-mail is the
address (the referrals directory); a community contact is whoever the catalogue names as the
welcome contact of one or more communities. The web looks them up as its own system actor
with a token it mints itself (an interim until issue 15's client credentials).

Nothing tells whether an address is known: the answer to an ask is the same either way, and
the lookup, the link and the mail happen after the answer, in a worker thread. Only keyed
hashes of the address and the client's IP are stored (for the rate limits), and logs name an
address by the first characters of its hash at most.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import TypeAdapter

from services.web import store
from services.web.domain import WebUser
from services.web.service.answers import Community, CommunityPage, Contact, Referrer
from services.web.service.backends import BackendError, Backends
from services.web.settings import WebSettings
from shared.clock import local
from shared.ids import new_id
from shared.mail import Mail, MailFailed, Smtp
from shared.principal import Role
from shared.profile import profile
from shared.runtime import Runtime
from shared.uow import UnitOfWork

log = logging.getLogger("vejviser.web.magic_link")

# Admin, because only guides and admins may look people up by e-mail.
LOOKUP_ACTOR = WebUser("vejviser-web-login", Role.admin, "Vejviser web (login med mail)")
LANDING = {Role.ambassador: "/foelgeopgaver", Role.community_contact: "/modtagelse"}
SUBJECT = "Dit login-link til Vejviser"
MAX_ADDRESS = 254
# A contact with more communities than this is unheard of; the catalogue's page size.
MAX_COMMUNITIES = 100


class Asked(StrEnum):
    queued = "queued"  # looked up after the answer, and mailed if it is a volunteer's
    address_limited = "address_limited"  # the same answer, nothing sent
    ip_limited = "ip_limited"  # answered 429


class LinkState(StrEnum):
    valid = "valid"
    used = "used"
    expired = "expired"  # or never made: expired links are swept


@dataclass(frozen=True)
class Limits:
    per_address: int
    per_ip: int
    window: timedelta

    def decide(self, address_asks: int, ip_asks: int) -> Asked:
        """What to do with an ask, given the asks already counted in the window."""
        if ip_asks >= self.per_ip:
            return Asked.ip_limited
        if address_asks >= self.per_address:
            return Asked.address_limited
        return Asked.queued


@dataclass(frozen=True)
class Opened:
    state: LinkState
    user: WebUser | None = None
    next_path: str = "/"


class DirectoryEntry(Referrer):
    contact: Contact | None = None


DIRECTORY = TypeAdapter(list[DirectoryEntry])


def normal_address(value: str) -> str | None:
    """The address as it is compared everywhere (trimmed, lower case), or None when it
    cannot be an e-mail address."""
    address = value.strip().lower()
    local_part, at, domain = address.rpartition("@")
    if not at or not local_part or "." not in domain.strip(".") or len(address) > MAX_ADDRESS:
        return None
    return None if any(character.isspace() for character in address) else address


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def contact_actor_id(address: str) -> str:
    """A community contact's actor id: stable per address, without showing it."""
    return "contact:" + hashlib.sha256(address.encode()).hexdigest()[:16]


def link_state(used_at: datetime | None, expires_at: datetime | None, now: datetime) -> LinkState:
    if expires_at is None or expires_at <= now:
        return LinkState.expired
    return LinkState.used if used_at is not None else LinkState.valid


def landing(user: WebUser, next_path: str = "/") -> str:
    """Where a volunteer goes after login: where they were going, else their role's page."""
    return next_path if next_path != "/" else LANDING.get(user.role, "/")


def _same(address: str, contact: Contact | None) -> bool:
    # Checked here too: a directory that ignored the filter must not log in someone else.
    return contact is not None and (contact.email or "").strip().lower() == address


def volunteer(address: str, referrers: Sequence[DirectoryEntry], communities: Sequence[Community]) -> WebUser | None:
    """The person an address logs in as. An address that is both an ambassador's and a
    community contact's logs in as the ambassador: a session has one role, the ambassador's
    work (referrals, accompaniment, readiness) hangs on their referrer id and needs the
    session, while the community's moves also come as one-click links in its mails."""
    ambassador = next((r for r in referrers if r.role == Role.ambassador and _same(address, r.contact)), None)
    if ambassador is not None:
        return WebUser(ambassador.actor_id, Role.ambassador, ambassador.display_name)
    own = [community for community in communities if _same(address, community.contact)]
    if not own:
        return None
    name = next((c.contact.name for c in own if c.contact and c.contact.name), "") or ""
    ids = tuple(sorted(community.id for community in own))
    return WebUser(contact_actor_id(address), Role.community_contact, name, ids)


def mail_text(name: str, url: str, minutes: int, until: str, programme: str) -> str:
    return (
        f"Hej {name}\n\n"
        'Du har bedt om at logge ind i Vejviser. Åbn linket, og tryk på knappen "Log ind":\n\n'
        f"{url}\n\n"
        f"Linket virker én gang og kun i {minutes} {'minut' if minutes == 1 else 'minutter'}, til kl. {until}. "
        "Et nyt link kan du bede om på login-siden.\n\n"
        "Har du ikke bedt om at logge ind, kan du se bort fra denne mail. Uden linket kan ingen logge ind som dig.\n\n"
        f"Venlig hilsen\nVejviser – {programme}\n"
    )


class MagicLinks:
    def __init__(
        self,
        runtime: Runtime,
        settings: WebSettings,
        backends: Backends,
        mail_html: Callable[..., str],
        smtp: Smtp | None = None,
    ) -> None:
        self.runtime, self.backends, self.mail_html = runtime, backends, mail_html
        self.smtp = smtp or settings.smtp
        window = timedelta(minutes=settings.login_mail_window_minutes)
        self.limits = Limits(settings.login_mail_per_address, settings.login_mail_per_ip, window)
        self.lifetime = timedelta(minutes=settings.login_link_minutes)
        self.link_base = settings.web_public_url.rstrip("/") + "/login/mail/"
        self._key_secret = hashlib.sha256(b"vejviser-login-mail:" + settings.draft_secret.encode()).digest()
        # One worker: mails go out in the order they were asked for, and a slow mail server
        # holds one thread, not the pages' pool.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="login-mail")

    def key(self, kind: str, value: str) -> str:
        """A keyed hash: a leaked table cannot be checked against a list of addresses."""
        return hmac.new(self._key_secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def ask(self, address: str, client: str, next_path: str = "/") -> Asked:
        """Someone asks for a link to `address` (normalised) from `client` (an IP), to go to
        `next_path` (a safe local path) after login."""
        token = secrets.token_urlsafe(32)
        hashed = token_hash(token)
        address_key, client_key = self.key("address", address), self.key("client", client)

        def count(uow: UnitOfWork) -> Asked:
            now = uow.now()
            since = now - self.limits.window
            asks = store.count_asks(uow.session, address_key, since), store.count_asks(uow.session, client_key, since)
            asked = self.limits.decide(*asks)
            if asked is not Asked.ip_limited:
                keys = (client_key, address_key) if asked is Asked.queued else (client_key,)
                for key in keys:
                    uow.session.add(store.LoginMailAsk(id=new_id(), key=key, token_hash=hashed, created_at=now))
            return asked

        asked = self.runtime.write(count)
        if asked is Asked.queued:
            self.worker.submit(self._deliver, address, token, next_path)
        else:
            log.info("login link not sent: %s (address %s, client %s)", asked, address_key[:8], client_key[:8])
        return asked

    def find(self, address: str) -> WebUser | None:
        referrers = self.backends.referrals.get_list(
            LOOKUP_ACTOR, "/v1/referrers", DIRECTORY, params={"email": address, "role": str(Role.ambassador)}
        )
        params: dict[str, str | int] = {"contact_email": address, "per_page": MAX_COMMUNITIES}
        page = self.backends.catalogue.get(LOOKUP_ACTOR, "/v1/communities", CommunityPage, params=params)
        return volunteer(address, referrers, page.items)

    def _deliver(self, address: str, token: str, next_path: str) -> None:
        """In the worker: look the address up and, for a volunteer, store and mail the link."""
        hint = self.key("address", address)[:8]
        try:
            user = self.find(address)
            if user is None:
                log.info("login link asked for an address that is no volunteer's (address %s)", hint)
                return
            now = self.runtime.clock.now()
            expires_at = now + self.lifetime
            link = store.LoginLink(
                token_hash=token_hash(token),
                actor_id=user.actor_id,
                role=str(user.role),
                name=user.name,
                communities=list(user.communities),
                next_path=next_path,
                created_at=now,
                expires_at=expires_at,
            )
            self.runtime.write(lambda uow: uow.session.add(link))
            self.smtp.send(self.mail(address, user, token, expires_at), now)
            log.info("login link sent (address %s, role %s)", hint, user.role)
        except BackendError as exc:
            log.warning("login link not sent: lookup failed with %s (address %s)", exc.status, hint)
        except MailFailed as exc:  # its message may name the address: only the error's type
            log.warning("login link not sent: %s (address %s)", type(exc.__cause__).__name__, hint)
        except Exception as exc:  # the worker must not die silently; the message may carry data
            log.error("login link not sent: %s (address %s)", type(exc).__name__, hint)

    def mail(self, address: str, user: WebUser, token: str, expires_at: datetime) -> Mail:
        url = self.link_base + token
        minutes = max(1, round(self.lifetime.total_seconds() / 60))
        until, programme = f"{local(expires_at):%H.%M}", profile().programme
        text = mail_text(user.name, url, minutes, until, programme)
        html = self.mail_html(name=user.name, url=url, minutes=minutes, until=until, programme=programme)
        return Mail(address, SUBJECT, text, html, message_key="login-" + token_hash(token)[:16])

    def state(self, token: str) -> Opened:
        """What a link would do now, without using it (mail scanners open links)."""
        row = self.runtime.read(lambda db: store.login_link(db, token_hash(token)))
        if row is None:
            return Opened(LinkState.expired)
        state = link_state(row.used_at, row.expires_at, self.runtime.clock.now())
        return Opened(state, _user(row) if state is LinkState.valid else None)

    def use(self, token: str) -> Opened:
        """Use a link (once): the person it logs in, or why not."""
        hashed = token_hash(token)

        def work(uow: UnitOfWork) -> Opened:
            now = uow.now()
            used = store.use_login_link(uow.session, hashed, now)
            row = store.login_link(uow.session, hashed)
            if used and row is not None:
                return Opened(LinkState.valid, _user(row), row.next_path)
            return Opened(link_state(row.used_at, row.expires_at, now) if row else LinkState.expired)

        return self.runtime.write(work)

    def close(self) -> None:
        self.worker.shutdown(wait=True, cancel_futures=False)


def _user(row: store.LoginLink) -> WebUser:
    return WebUser(row.actor_id, Role(row.role), row.name, tuple(row.communities))
