"""Mine henvisninger (`/henvisninger`): what waits for me first, overdue flagged, 20 a page;
for guides also the follow-ups nobody answered and the referrers who were trained but have
not referred yet."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.web.api.deps import FOLLOWING, LoggedIn, Page, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import OVERDUE_DAYS, STATUS_WORDS, WebUser
from services.web.service import Pages
from services.web.service.backends import BackendError
from services.web.service.readiness import ReadyReferrer, trained_not_referring
from services.web.service.worklist import UnansweredFollowUp, WorkFilter, follow_ups_unanswered, worklist
from shared.principal import Role

router = APIRouter(dependencies=GUARDED)

STATUS_CHOICES = [("aabne", "Åbne henvisninger"), ("alle", "Alle"), *STATUS_WORDS.items()]


def _trained_not_referring(pages: Pages, user: WebUser) -> list[ReadyReferrer] | None:
    """For guides: who was trained but has not referred yet (None when it cannot be known now;
    the worklist never fails for it)."""
    try:
        return trained_not_referring(pages, user)
    except BackendError:
        return None


def _follow_ups(pages: Pages, user: WebUser) -> list[UnansweredFollowUp] | None:
    """For guides: the follow-ups nobody answered (None when it cannot be known now)."""
    try:
        return follow_ups_unanswered(pages, user)
    except BackendError:
        return None


@router.get("/henvisninger", response_class=HTMLResponse, dependencies=[Staff(*FOLLOWING)])
def worklist_page(page: Page, user: LoggedIn, pages: PagesDep) -> HTMLResponse:
    work = WorkFilter.parse(dict(page.request.query_params), user)
    found = worklist(pages, user, work)
    return page.render(
        "pages/worklist.html",
        work=found,
        status_choices=STATUS_CHOICES,
        overdue_days=OVERDUE_DAYS,
        sees_all=user.sees_all,
        previous_href="/henvisninger?" + urlencode(work.pairs(work.page - 1)) if work.page > 1 else None,
        next_href="/henvisninger?" + urlencode(work.pairs(work.page + 1)) if found.has_next else None,
        trained=_trained_not_referring(pages, user) if user.role == Role.guide else [],
        follow_ups=_follow_ups(pages, user) if user.role == Role.guide else [],
        shows_trained=user.role == Role.guide,
    )
