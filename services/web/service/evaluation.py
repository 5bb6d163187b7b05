"""Evaluering: the analytics service's dashboard (the latest nightly snapshot, or an older
one), asked for as the logged-in person and shown inside the web's own layout.

Analytics renders it (`/dashboard?embed=true`: the lead and the content as an HTML fragment,
no document, no styles, nothing it loads), so the numbers, charts and Danish words are the
dashboard's own and never a second copy here. The web only points the fragment's links to
earlier snapshots at its own pages, and styles it (static/evaluation.css)."""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup

from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.backends import BackendError

DASHBOARD = "/dashboard"
EVALUATION = "/evaluering"


def own_links(fragment: str) -> str:
    """The dashboard's links to its other snapshots, as the web's pages of them."""
    return fragment.replace(f'href="{DASHBOARD}/', f'href="{EVALUATION}/')


def dashboard(pages: Pages, user: WebUser, snapshot_id: str | None = None) -> Markup | None:
    """The dashboard (of `snapshot_id`, else the latest) as markup for the page; None when
    analytics has it switched off (DASHBOARD_ENABLED=false). An unknown snapshot is the
    BackendError (404) the page turns into its 404 page."""
    path = DASHBOARD if snapshot_id is None else f"{DASHBOARD}/{quote(snapshot_id, safe='')}"
    try:
        answer = pages.analytics.call(user, "GET", path, params={"embed": True})
    except BackendError as error:
        if error.not_found and snapshot_id is None:
            return None
        raise
    # Trusted: the analytics service's own autoescaped template, fetched over our own backend call.
    return Markup(own_links(answer.text))
