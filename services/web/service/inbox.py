"""The logged-in person's notifications inbox (the notifications service's `/v1/inbox`)."""

from __future__ import annotations

from services.web.domain import WebUser
from services.web.service import Pages


def unread_count(pages: Pages, user: WebUser) -> int | None:
    """How many of the person's messages are unread; None when it cannot be known now (a page
    never fails for the header's count)."""
    return None
