"""The caller's own messages (a message is in the inbox as soon as it is decided)."""

from __future__ import annotations

from fastapi import APIRouter

from services.notifications.api.deps import InboxLimit, Service
from services.notifications.schemas import InboxMessage, InboxOut, UnreadOut
from services.notifications.service import people
from shared.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


@router.get("", summary="The caller's own messages, newest first")
def read_inbox(
    principal: CurrentPrincipal, service: Service, unread_only: bool = False, limit: InboxLimit = 100
) -> InboxOut:
    inbox = people.read_inbox(service, principal, unread_only=unread_only, limit=limit)
    return InboxOut(
        unread=inbox.unread, messages=[InboxMessage.of(letter.row, letter.message) for letter in inbox.messages]
    )


@router.get("/unread", summary="How many of the caller's messages are unread")
def unread(principal: CurrentPrincipal, service: Service) -> UnreadOut:
    return UnreadOut(unread=people.unread(service, principal))


@router.post("/{message_id}/read", summary="Mark one of the caller's messages as read")
def mark_read(message_id: str, principal: CurrentPrincipal, service: Service) -> InboxMessage:
    letter = people.mark_read(service, principal, message_id)
    return InboxMessage.of(letter.row, letter.message)
