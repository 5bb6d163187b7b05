"""Mine henvisninger and Henvisningen: the referrals a person may see (what waits for them
first, overdue flagged), one referral with its timeline, and its lifecycle moves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.web import domain
from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.answers import REFERRALS, TIMELINE, Referral, Referrer, TimelineEntry
from services.web.service.backends import BackendError

PER_PAGE = 20
COMMUNITY_SIDE = ("community:", "contact:")
STATUS_FILTERS = {"aabne": list(domain.OPEN_STATUSES), "alle": []} | {
    status: [status] for status in domain.STATUS_WORDS
}


@dataclass(frozen=True)
class WorkItem:
    referral: Referral
    needs_action: bool
    overdue: bool


@dataclass(frozen=True)
class WorkFilter:
    status: str = "aabne"
    referrer: str = ""  # guides and admins: one referrer's referrals
    overdue: bool = False
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str], user: WebUser) -> WorkFilter:
        page = params.get("side", "")
        return cls(
            status=params.get("status", "aabne") if params.get("status") in STATUS_FILTERS else "aabne",
            referrer=params.get("henviser", "").strip()[:100] if user.sees_all else "",
            overdue=params.get("forsinket") == "ja",
            page=min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1,
        )

    def pairs(self, page: int) -> list[tuple[str, str]]:
        pairs = [("status", self.status)] + ([("henviser", self.referrer)] if self.referrer else [])
        return pairs + ([("forsinket", "ja")] if self.overdue else []) + [("side", str(page))]


@dataclass(frozen=True)
class WorkList:
    filter: WorkFilter
    items: list[WorkItem]
    has_next: bool


def worklist_params(work: WorkFilter) -> dict[str, str | int | bool | list[str]]:
    """The referrals API's query for one page of the worklist."""
    params: dict[str, str | int | bool | list[str]] = {
        "limit": PER_PAGE + 1,  # one more tells whether there is a next page
        "offset": (work.page - 1) * PER_PAGE,
    }
    if STATUS_FILTERS[work.status]:
        params["status"] = STATUS_FILTERS[work.status]
    if work.referrer:
        params["referrer"] = work.referrer
    if work.overdue:
        params["overdue"] = domain.OVERDUE_DAYS
    return params


def worklist(pages: Pages, user: WebUser, work: WorkFilter) -> WorkList:
    found = pages.referrals.get_list(user, "/v1/referrals", REFERRALS, params=worklist_params(work))
    now = pages.runtime.clock.now()
    items = [
        WorkItem(
            referral,
            domain.needs_my_action(user, referral.status, referral.allowed_actions, referral.needs_accompaniment),
            domain.is_overdue(referral.status, referral.updated_at, now),
        )
        for referral in found[:PER_PAGE]
    ]
    items.sort(key=lambda item: domain.worklist_order(item.needs_action, item.overdue, item.referral.updated_at))
    return WorkList(work, items, len(found) > PER_PAGE)


@dataclass(frozen=True)
class ReferralView:
    referral: Referral
    timeline: list[TimelineEntry]
    moves: list[str]
    overdue: bool
    names: dict[str, str]  # actor id → the name a person reads


def names_of(pages: Pages, user: WebUser, actor_ids: set[str]) -> dict[str, str]:
    """The people a referral names, by name: from the referrals service's directory, and the
    logged-in person by their own; one not found (or not to be shown) keeps their id."""
    names = {user.actor_id: user.name} if user.name else {}
    for actor_id in sorted(actor_ids - set(names)):
        try:
            names[actor_id] = pages.referrals.get(user, f"/v1/referrers/{actor_id}", Referrer).display_name
        except BackendError:
            continue
    return names


def referral(pages: Pages, user: WebUser, referral_id: str) -> ReferralView:
    found = pages.referrals.get(user, f"/v1/referrals/{referral_id}", Referral)
    timeline = pages.referrals.get_list(user, f"/v1/referrals/{referral_id}/timeline", TIMELINE)
    overdue = domain.is_overdue(found.status, found.updated_at, pages.runtime.clock.now())
    actors = {found.referrer_id} | {domain.actor_of(entry.data) for entry in timeline} - {""}
    # The community's side by its role: a one-click link's holder is the community itself
    # (shared/links.community_link), a contact logged in by mail has no directory entry.
    community_side = {actor for actor in actors if actor.startswith(COMMUNITY_SIDE)}
    names = names_of(pages, user, actors - community_side)
    names |= dict.fromkeys(community_side, f"Kontaktpersonen i {found.community_name or found.community_id}")
    return ReferralView(found, timeline, domain.moves_for(user, found.allowed_actions), overdue, names)


def move(pages: Pages, user: WebUser, referral_id: str, action: str, body: dict[str, object]) -> Referral:
    """One lifecycle move, as the referrals service allows it (a 409 comes back as BackendError)."""
    return pages.referrals.post(user, f"/v1/referrals/{referral_id}/{action}", Referral, json=body)


@dataclass(frozen=True)
class UnansweredFollowUp:
    referral: Referral
    referrer_name: str


def follow_ups_unanswered(pages: Pages, user: WebUser) -> list[UnansweredFollowUp]:
    """For guides: welcomed referrals whose 4- or 12-week question nobody has answered, after the
    mail and its reminder (the referrals service's `follow_up=overdue`), oldest change first."""
    found = pages.referrals.get_list(user, "/v1/referrals", REFERRALS, params={"follow_up": "overdue", "limit": 50})
    names = names_of(pages, user, {referral.referrer_id for referral in found})
    return [
        UnansweredFollowUp(referral, names.get(referral.referrer_id, referral.referrer_id))
        for referral in sorted(found, key=lambda referral: referral.updated_at)
    ]
