"""The dependencies the catalogue's routes declare: roles, the service object, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.catalogue.service import Catalogue
from shared.auth import CurrentPrincipal, Principal, Role, require


def get_catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
Writer = Annotated[Principal, Depends(require(Role.guide, Role.admin))]
# The community's own contact too (seats, their own details); the service checks the
# community is theirs.
OwnContactOrStaff = Annotated[Principal, Depends(require(Role.guide, Role.admin, Role.community_contact))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
Reader = CurrentPrincipal
Page = Annotated[int, Query(ge=1, le=10_000, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=100, description="results per page (at most 100)")]
HsdsPage = Annotated[int, Query(ge=1, le=100_000)]
HsdsPerPage = Annotated[int, Query(ge=1, le=200)]
