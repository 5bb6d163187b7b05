"""Modtagelse: a community contact's incoming referrals (the referrals service lists only those
to the contact's own communities), their answers, and per community the capacity and a pause
of the mails. The one-click links (`service/links.py`) make the same calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.web import domain
from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.answers import REFERRALS, Answer, Community, Referral
from services.web.service.backends import BackendError

# Enough for a club's open referrals; the closed ones are only the latest, as a reminder.
OPEN_LIMIT = 100
CLOSED_LIMIT = 10
CLOSED_STATUSES = ("welcomed", "participating", "ended", "rejected", "no_show", "cancelled")


@dataclass(frozen=True)
class Incoming:
    referral: Referral
    moves: list[str]  # the contact's answers that fit the referral's stage and are allowed now

    @property
    def status_word(self) -> str:
        return domain.RECEIVED_WORDS.get(self.referral.status, self.referral.status)


@dataclass(frozen=True)
class Desk:
    """One of the contact's communities: its card (None when the catalogue does not answer) and
    until when its mail is paused (None: not paused, or not known)."""

    community_id: str
    community: Community | None
    paused_until: datetime | None = None


class Pause(Answer):
    paused_until: datetime | None = None


@dataclass(frozen=True)
class Reception:
    desks: list[Desk]
    new: list[Incoming]
    coming: list[Incoming]
    closed: list[Incoming]


def incoming(user: WebUser, referral: Referral) -> Incoming:
    allowed = domain.moves_for(user, referral.allowed_actions)
    fitting = domain.RECEPTION_MOVES_OF[domain.reception_group(referral.status)]
    return Incoming(referral, [move for move in domain.RECEPTION_MOVES if move in allowed and move in fitting])


def reception(pages: Pages, user: WebUser) -> Reception:
    # Read to receive the citizens, as the audit log records it (the list's own purpose is the worklist).
    params: dict[str, str | int | bool | list[str]] = {
        "status": list(domain.OPEN_STATUSES),
        "limit": OPEN_LIMIT,
        "purpose": "reception",
    }
    found = pages.referrals.get_list(user, "/v1/referrals", REFERRALS, params=params)
    params = {"status": list(CLOSED_STATUSES), "limit": CLOSED_LIMIT, "purpose": "reception"}
    found += pages.referrals.get_list(user, "/v1/referrals", REFERRALS, params=params)
    groups: dict[str, list[Incoming]] = {"new": [], "coming": [], "closed": []}
    # The API lists the newest first; each group keeps that order.
    for referral in found:
        groups[domain.reception_group(referral.status)].append(incoming(user, referral))
    return Reception(
        [desk(pages, user, c) for c in user.communities], groups["new"], groups["coming"], groups["closed"]
    )


def desk(pages: Pages, user: WebUser, community_id: str) -> Desk:
    try:
        card: Community | None = community(pages, user, community_id)
    except BackendError:
        card = None
    try:
        until = pages.notifications.get(user, f"/v1/communities/{community_id}/pause", Pause).paused_until
    except BackendError:
        until = None
    return Desk(community_id, card, until if until and until > pages.runtime.clock.now() else None)


def community(pages: Pages, user: WebUser, community_id: str) -> Community:
    return pages.catalogue.get(user, f"/v1/communities/{community_id}", Community)


def set_capacity(pages: Pages, user: WebUser, community_id: str, choice: str) -> Community:
    """ "Åben", "få pladser" or "fuld", said by the community's contact (the total is kept)."""
    current = community(pages, user, community_id).capacity
    body = domain.capacity_report(choice, current.total, current.available)
    response = pages.catalogue.call(user, "PUT", f"/v1/communities/{community_id}/capacity", json=body)
    return Community.model_validate_json(response.content)


def pause_mail(pages: Pages, user: WebUser, community_id: str, until: datetime | None) -> None:
    """No mail to the community's contact before `until` (None lifts the pause); the inbox
    still gets everything."""
    body = {"until": until.isoformat() if until else None}
    pages.notifications.call(user, "PUT", f"/v1/communities/{community_id}/pause", json=body)


def save_contact(pages: Pages, user: WebUser, community_id: str, body: dict[str, object]) -> None:
    """The contact person corrects their own details and says whether the public catalogue
    (the HSDS feed, search without login) may show them; staff see them either way."""
    pages.catalogue.call(user, "PUT", f"/v1/communities/{community_id}/contact", json=body)


def remove_contact(pages: Pages, user: WebUser, community_id: str) -> None:
    """The contact person's name, e-mail and phone leave the community's record."""
    pages.catalogue.call(user, "DELETE", f"/v1/communities/{community_id}/contact")
