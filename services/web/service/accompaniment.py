"""Mine følgeopgaver: the accompaniment requests an ambassador (or a professional who offers
accompaniment) may take, the ones they took with what they need to meet the citizen, those
another companion took first, and the referrals they made themselves.

The referrals service decides who sees which request and who wins a race (the first to take
it); the web only sorts the list into its sections and fetches each taken request's meeting
place from the catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import TypeAdapter

from services.web.domain import WebUser, status_word
from services.web.service import Pages
from services.web.service.answers import REFERRALS, Answer, Community, Referral, SharedContact
from services.web.service.backends import BackendError

# How many of their own referrals the page lists (the rest are on /henvisninger).
OWN_REFERRALS = 5
MOVES = ("arrange_accompaniment", "decline_accompaniment", "accompany")
TAKEN_BY_ANOTHER = "En anden ambassadør nåede at tage opgaven. Listen er opdateret."
NO_LONGER_OPEN = "Opgaven er ikke længere åben for dig. Listen er opdateret."
CHANGED = "Henvisningen er lige blevet ændret, så det kan ikke registreres nu. Se aftalen nedenfor."


class AccompanimentRequest(Answer):
    referral_id: str
    community_id: str
    community_name: str | None = None
    area: str | None = None
    area_label: str | None = None
    created_at: datetime
    special_considerations: bool = False
    visit_at: datetime | None = None
    status: str
    state: Literal["open", "mine", "taken"]
    companion_id: str | None = None
    shared_contact: SharedContact | None = None

    @property
    def status_word(self) -> str:
        return status_word(self.status)

    @property
    def awaits_accompaniment(self) -> bool:
        """Taken by me and not yet done: "Jeg har fulgt borgeren derhen" is the next move."""
        return self.state == "mine" and self.status == "accompaniment_arranged"


REQUESTS = TypeAdapter(list[AccompanimentRequest])


@dataclass(frozen=True)
class Appointment:
    """A request I took, with the community's meeting place from the catalogue (None when the
    catalogue does not answer: the page still shows the rest), and the referrer's note when
    the referrer shared it with the companion (the referrals service decides)."""

    request: AccompanimentRequest
    community: Community | None
    note: str | None = None


@dataclass(frozen=True)
class Board:
    open: list[AccompanimentRequest]
    mine: list[Appointment]
    taken: list[AccompanimentRequest]
    own_referrals: list[Referral] = field(default_factory=list)
    more_referrals: bool = False


def sections(
    requests: Iterable[AccompanimentRequest],
) -> tuple[list[AccompanimentRequest], list[AccompanimentRequest], list[AccompanimentRequest]]:
    """Open (the soonest proposed visit first, then the longest waiting), mine (what I still
    have to do first, then by visit time) and taken (the newest first)."""
    found = list(requests)

    def visit_key(item: AccompanimentRequest) -> tuple[float, float]:
        visit = item.visit_at.timestamp() if item.visit_at else float("inf")
        return (visit, item.created_at.timestamp())

    open_ = sorted((item for item in found if item.state == "open"), key=visit_key)
    mine = sorted(
        (item for item in found if item.state == "mine"),
        key=lambda item: (0 if item.awaits_accompaniment else 1, *visit_key(item)),
    )
    taken = sorted((item for item in found if item.state == "taken"), key=lambda item: -item.created_at.timestamp())
    return open_, mine, taken


def takes_tasks(user: WebUser) -> bool:
    """Volunteers and professionals take tasks themselves; guides and admins look, and arrange
    companions from the referral's page."""
    return not user.sees_all


def _community(pages: Pages, user: WebUser, community_id: str) -> Community | None:
    try:
        return pages.catalogue.get(user, f"/v1/communities/{community_id}", Community)
    except BackendError:
        return None


def _shared_note(pages: Pages, user: WebUser, referral_id: str) -> str | None:
    """The note as the referrals service gives it to me: only when the referrer shared it."""
    try:
        path = f"/v1/referrals/{referral_id}"
        return pages.referrals.get(user, path, Referral, params={"purpose": "accompaniment"}).note
    except BackendError:
        return None


def board(pages: Pages, user: WebUser) -> Board:
    requests = pages.referrals.get_list(user, "/v1/accompaniment-requests", REQUESTS)
    open_, mine, taken = sections(requests)
    places = {item.community_id: _community(pages, user, item.community_id) for item in mine}
    own = pages.referrals.get_list(
        user, "/v1/referrals", REFERRALS, params={"referrer": user.actor_id, "limit": OWN_REFERRALS + 1}
    )
    return Board(
        open=open_,
        mine=[
            Appointment(item, places[item.community_id], _shared_note(pages, user, item.referral_id)) for item in mine
        ],
        taken=taken,
        own_referrals=own[:OWN_REFERRALS],
        more_referrals=len(own) > OWN_REFERRALS,
    )


def move(pages: Pages, user: WebUser, referral_id: str, action: str) -> None:
    """Take a request (I am the companion), decline it (not shown to me again), or record that
    I went along. A refusal is a `BackendError`; `refusal_words` says it in Danish."""
    body = {"companion_id": user.actor_id} if action == "arrange_accompaniment" else None
    pages.referrals.call(user, "POST", f"/v1/referrals/{referral_id}/{action}", json=body)


def refusal_words(action: str, error: BackendError) -> str | None:
    """What the page says when the referrals service refuses a move (None: not ours to explain)."""
    if action == "arrange_accompaniment" and error.conflict:
        return TAKEN_BY_ANOTHER
    if error.forbidden or error.not_found or (error.conflict and action == "decline_accompaniment"):
        return NO_LONGER_OPEN
    if error.conflict or error.status == 422:
        return CHANGED
    return None
