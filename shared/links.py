"""Signed, expiring one-click links: what a mail lets its reader do without logging in.

The notifications service signs them into the messages it sends; the web client verifies
them and does the move as the person the link was made for, with no more rights than that
person has (`Link.principal`). Both hold the same key, LINK_SIGNING_KEY (the links' own:
never the tokens' key, and no other secret stands in for it), so neither calls the other.

A link names one action on one referral (or community), for one actor in one role:

    accept | propose_visit | welcome | no_show | reject:<reason>   (the community's contact)
    capacity:<open|few|full> | pause                              (the community's contact)
    participation:<4|12>:<yes|no>                                 (the follow-up's recipient)

Opening a link (GET) only shows what it will do; the move happens on the page's button
(POST), because mail scanners open every link in a message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.principal import Principal, Role

LINK_VALIDITY = timedelta(days=21)
# Follow-up answers may come late; the 12-week question is still worth answering at 16.
FOLLOW_UP_VALIDITY = timedelta(days=28)
_DOMAIN = b"vejviser-link|"
_MAC_BYTES = 18


class InvalidLink(ValueError):
    """The link is forged, damaged or expired (`expired` tells the two apart)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class Link:
    action: str  # e.g. "welcome", "reject:full", "participation:4:yes"
    subject_id: str  # the referral (or, for capacity and pause, the community)
    actor_id: str  # who the link was made for
    role: Role
    communities: tuple[str, ...]
    expires_at: datetime

    @property
    def verb(self) -> str:
        return self.action.split(":", 1)[0]

    @property
    def arguments(self) -> list[str]:
        return self.action.split(":")[1:]

    @property
    def principal(self) -> Principal:
        """The link's holder, with exactly the rights of the person it was made for."""
        return Principal(self.actor_id, self.role, self.communities)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), _DOMAIN + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def sign_link(secret: str, link: Link) -> str:
    body = [
        link.action,
        link.subject_id,
        link.actor_id,
        str(link.role),
        list(link.communities),
        int(link.expires_at.timestamp()),
    ]
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify_link(secret: str, token: str, now: datetime) -> Link:
    """The link a token carries; raises InvalidLink when forged, damaged or expired."""
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        if not hmac.compare_digest(_mac(secret, payload), _unb64(mac_part)):
            raise InvalidLink("the link is not valid")
        action, subject_id, actor_id, role, communities, expires = json.loads(payload)
        link = Link(
            str(action),
            str(subject_id),
            str(actor_id),
            Role(role),
            tuple(str(c) for c in communities),
            datetime.fromtimestamp(int(expires), UTC),
        )
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidLink("the link is not valid") from exc
    if link.expires_at < now:
        raise InvalidLink("the link has expired", expired=True)
    return link


def link_url(web_url: str, secret: str, link: Link) -> str:
    """The address of a one-click link's page on the web client."""
    return f"{web_url.rstrip('/')}/l/{sign_link(secret, link)}"


def community_link(
    action: str, subject_id: str, community_id: str, issued_at: datetime, validity: timedelta = LINK_VALIDITY
) -> Link:
    """A link for a community's contact person (who may have no account: the community is
    the actor)."""
    return Link(
        action,
        subject_id,
        f"community:{community_id}",
        Role.community_contact,
        (community_id,),
        issued_at + validity,
    )
