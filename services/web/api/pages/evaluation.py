"""Evaluering (`/evaluering`, `/evaluering/{snapshot}`): the analytics dashboard of the
nightly snapshots, behind login, for analysts, guides and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.web.api.deps import Page, Staff
from services.web.api.pages.deps import GUARDED, PagesDep
from services.web.domain import WebUser
from services.web.service.evaluation import dashboard
from shared.principal import Role

router = APIRouter(prefix="/evaluering", dependencies=GUARDED)
Reader = Annotated[WebUser, Staff(Role.analyst, Role.guide, Role.admin)]


@router.get("", response_class=HTMLResponse)
def evaluation_page(page: Page, user: Reader, pages: PagesDep) -> HTMLResponse:
    return page.render("pages/evaluering.html", dashboard=dashboard(pages, user))


@router.get("/{snapshot_id}", response_class=HTMLResponse)
def earlier_snapshot(page: Page, user: Reader, pages: PagesDep, snapshot_id: str) -> HTMLResponse:
    return page.render("pages/evaluering.html", dashboard=dashboard(pages, user, snapshot_id), older=True)
