"""`/v1/organizations`: associations, municipal units, businesses, housing associations."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.catalogue.api.deps import CatalogueDep, Reader, Writer
from services.catalogue.schemas import OrganizationIn, OrganizationPatch
from services.catalogue.service import organizations
from services.catalogue.views import OrganizationDetail, OrganizationOut

router = APIRouter(prefix="/v1/organizations", tags=["organisations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an organisation (association, municipal unit, business, housing association)",
)
def create_organization(body: OrganizationIn, _: Writer, catalogue: CatalogueDep) -> OrganizationOut:
    return organizations.create(catalogue, body)


@router.get("", summary="All organisations")
def list_organizations(_: Reader, catalogue: CatalogueDep, include_archived: bool = False) -> list[OrganizationOut]:
    return organizations.listing(catalogue, include_archived)


@router.get("/{organization_id}", summary="One organisation with the ids of its communities")
def get_organization(organization_id: str, _: Reader, catalogue: CatalogueDep) -> OrganizationDetail:
    return organizations.detail(catalogue, organization_id)


@router.patch("/{organization_id}", summary="Change an organisation")
def update_organization(
    organization_id: str, body: OrganizationPatch, _: Writer, catalogue: CatalogueDep
) -> OrganizationOut:
    return organizations.update(catalogue, organization_id, body)


@router.post("/{organization_id}/archive", summary="Archive an organisation that has no active communities")
def archive_organization(organization_id: str, _: Writer, catalogue: CatalogueDep) -> OrganizationOut:
    return organizations.archive(catalogue, organization_id)
