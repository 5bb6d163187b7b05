"""Mine henvisninger (`/henvisninger`): what waits for me first, overdue flagged, 20 a page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.web.api.deps import LoggedIn, Page
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import OVERDUE_DAYS, STATUS_WORDS
from services.web.service.worklist import WorkFilter, worklist

router = APIRouter(dependencies=GUARDED)

STATUS_CHOICES = [("aabne", "Åbne henvisninger"), ("alle", "Alle"), *STATUS_WORDS.items()]


@router.get("/henvisninger", response_class=HTMLResponse)
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
    )
