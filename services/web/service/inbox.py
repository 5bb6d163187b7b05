"""The logged-in person's notifications inbox (the notifications service's `/v1/inbox`):
the header's unread count, the Beskeder page's messages (newest first, 20 a page) and
marking one as read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import Field, ValidationError

from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.answers import Answer
from services.web.service.backends import BackendError

PER_PAGE = 20
# The header's count is on every page: a notifications service that hangs may cost a page at
# most this long (it then shows no count), not the pages' usual 10 seconds.
COUNT_TIMEOUT = httpx.Timeout(1.0, connect=0.5)
MOST = 500  # the notifications service hands out at most this many (newest first)
_URL = re.compile(r"https?://[^\s<>\"']+")
ONE_CLICK_WORDS = "Åbn linket"


class Message(Answer):
    id: str
    rule: str
    title: str
    text: str = ""
    referral_id: str | None = None
    created_at: datetime
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def pieces(self) -> list[tuple[str, str | None]]:
        return pieces(self.text)


class InboxAnswer(Answer):
    unread: int = 0
    messages: list[Message] = Field(default_factory=list)


class Unread(Answer):
    unread: int


@dataclass(frozen=True)
class Inbox:
    messages: list[Message]
    unread: int
    page: int
    unread_only: bool
    has_next: bool
    capped: bool  # older messages exist than the notifications service hands out


def pieces(text: str) -> list[tuple[str, str | None]]:
    """The plain text as (words, address or None) pieces, so the page can link the addresses.
    A one-click link (`/l/<token>`) reads "Åbn linket" rather than its long token: the text
    before it on its line says what it does."""
    found: list[tuple[str, str | None]] = []
    at = 0
    for match in _URL.finditer(text):
        address = match.group().rstrip(".,)")
        words = ONE_CLICK_WORDS if "/l/" in address else address
        found += [(text[at : match.start()], None), (words, address)]
        at = match.start() + len(address)
    return [piece for piece in [*found, (text[at:], None)] if piece[0]]


def unread_count(pages: Pages, user: WebUser) -> int | None:
    """How many of the person's messages are unread; None when it cannot be known now (a page
    never fails for the header's count)."""
    try:
        return pages.notifications.get(user, "/v1/inbox/unread", Unread, timeout=COUNT_TIMEOUT).unread
    except (BackendError, ValidationError):
        return None


def inbox(pages: Pages, user: WebUser, page: int, unread_only: bool) -> Inbox:
    """One page of the person's messages, newest first. The inbox API has a limit but no
    offset, so a page asks for everything up to its end (and one more, to know of a next)."""
    wanted = page * PER_PAGE + 1
    params: dict[str, str | int | bool] = {"limit": min(wanted, MOST)}
    if unread_only:
        params["unread_only"] = True
    found = pages.notifications.get(user, "/v1/inbox", InboxAnswer, params=params)
    messages = sorted(found.messages, key=lambda message: message.created_at, reverse=True)
    shown = messages[(page - 1) * PER_PAGE : page * PER_PAGE]
    return Inbox(
        messages=shown,
        unread=found.unread,
        page=page,
        unread_only=unread_only,
        has_next=len(messages) > page * PER_PAGE,
        capped=wanted > MOST and len(messages) >= MOST,
    )


def mark_read(pages: Pages, user: WebUser, message_id: str) -> Message:
    return pages.notifications.post(user, f"/v1/inbox/{message_id}/read", Message)
