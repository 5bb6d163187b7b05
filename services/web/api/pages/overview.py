"""Overblik (`/overblik`): the programme's dashboard for analysts, guides and admins: a period,
the cascade drawn as generations, CSV download and a printable A4 version."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.web.api.deps import Page, PageContext, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.overview import PRESETS, Month, PeriodChoice, decimal, number, parse_period
from services.web.service import Pages
from services.web.service.overview import READINESS_LEVELS, metrics_csv, overview
from shared.clock import local
from shared.principal import Role
from shared.profile import profile

router = APIRouter(dependencies=GUARDED)
Lead = Annotated[WebUser, Staff(Role.analyst, Role.guide, Role.admin)]


def _choice(page: PageContext, pages: Pages) -> PeriodChoice:
    params = page.request.query_params
    return parse_period({key: params[key] for key in ("from", "to", "periode") if key in params}, _today(pages))


def _today(pages: Pages) -> date:
    return local(pages.runtime.clock.now()).date()


def _render(page: PageContext, pages: Pages, user: WebUser, *, printing: bool = False) -> HTMLResponse:
    choice = _choice(page, pages)
    view = overview(pages, user, choice.period) if choice.period else None
    # The print version is a page of its own: no navigation to print.
    shape: dict[str, list[object]] = {"nav": []} if printing else {}
    return page.render(
        "pages/overview_print.html" if printing else "pages/overview.html",
        status=422 if choice.errors else 200,
        choice=choice,
        view=view,
        errors=choice.errors,
        error_of=dict(reversed(choice.errors)),
        presets=PRESETS,
        this_month=str(Month.of(_today(pages))),
        readiness_levels=READINESS_LEVELS,
        loneliness_scale=profile().loneliness_scale,
        number=number,
        decimal=decimal,
        **shape,
    )


@router.get("/overblik", response_class=HTMLResponse)
def overview_page(page: Page, user: Lead, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user)


@router.get("/overblik/print", response_class=HTMLResponse)
def overview_print(page: Page, user: Lead, pages: PagesDep) -> HTMLResponse:
    return _render(page, pages, user, printing=True)


@router.get("/overblik.csv", response_class=Response)
def overview_csv(page: Page, user: Lead, pages: PagesDep) -> Response:
    choice = _choice(page, pages)
    if choice.period is None:  # the page with its error summary, not a file
        return _render(page, pages, user)
    return Response(
        metrics_csv(pages, user, choice.period),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{choice.period.filename}"'},
    )
