"""The dependencies of the analytics routes, as `Annotated` aliases: who may read, the
service object, the period asked for, and disclosure."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from services.analytics.domain import Period
from services.analytics.service import Analytics
from services.analytics.settings import AnalyticsSettings
from shared.auth import require
from shared.errors import Forbidden, Invalid, NotFound
from shared.principal import Principal, Role

# Guides and admins see every cell; everyone else always gets disclosure control.
UNSUPPRESSING_ROLES = (Role.guide, Role.admin)

READERS = (Role.analyst, Role.guide, Role.admin)
Reader = Annotated[Principal, Depends(require(*READERS))]


def get_analytics(request: Request) -> Analytics:
    analytics: Analytics = request.app.state.analytics
    return analytics


Service = Annotated[Analytics, Depends(get_analytics)]


def _dashboard_switch(request: Request) -> None:
    settings = AnalyticsSettings.for_service(request.app.state.settings)
    if not settings.dashboard_enabled:
        raise NotFound("the dashboard is switched off here (DASHBOARD_ENABLED=false); GET /v1/metrics has the numbers")


# The dashboard is off (404, asked first, so nobody learns more), or for readers of the metrics
# with their bearer token, in every environment: development holds the demo's citizens too.
DashboardAccess = [Depends(_dashboard_switch), Depends(require(*READERS))]


def _period(
    start: Annotated[date | None, Query(alias="from", description="first day, YYYY-MM-DD (inclusive)")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, YYYY-MM-DD (inclusive)")] = None,
) -> Period:
    try:
        return Period(start, end)
    except ValueError as exc:
        raise Invalid(str(exc), field="to" if str(exc).startswith("'to'") else "from") from None


PeriodDep = Annotated[Period, Depends(_period)]


def _suppression(
    principal: Reader,
    suppress: Annotated[
        bool, Query(description="hide breakdown cells of 1-4 (only guide and admin may say false)")
    ] = True,
) -> bool:
    if not suppress and not principal.has(*UNSUPPRESSING_ROLES):
        raise Forbidden(
            f"role '{principal.role.value}' always gets disclosure control (cells of 1-4 citizens hidden); "
            "only guide and admin may ask for suppress=false"
        )
    return suppress


Suppress = Annotated[bool, Depends(_suppression)]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest first")]
