"""`/v1/organizations`: associations, municipal units, businesses, housing associations."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.catalogue.api.deps import CatalogueDep, Reader, Writer
from services.catalogue.schemas import OrganizationIn, OrganizationPatch
from services.catalogue.service import organizations
from services.catalogue.views import OrganizationDetail, OrganizationOut
from shared.errors import Invalid
from shared.responses import errors

router = APIRouter(prefix="/v1/organizations", tags=["organisations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an organisation (association, municipal unit, business, housing association)",
    responses=errors(409),
)
def create_organization(body: OrganizationIn, _: Writer, catalogue: CatalogueDep) -> OrganizationOut:
    return organizations.create(catalogue, body)


@router.get("", summary="All organisations")
def list_organizations(_: Reader, catalogue: CatalogueDep, include_archived: bool = False) -> list[OrganizationOut]:
    return organizations.listing(catalogue, include_archived)


@router.get("/{organization_id}", summary="One organisation with the ids of its communities")
def get_organization(organization_id: str, _: Reader, catalogue: CatalogueDep) -> OrganizationDetail:
    return organizations.detail(catalogue, organization_id)


def _kept(body: OrganizationPatch) -> None:
    """An organisation always has what registering it requires (a name, a kind, a description,
    empty or not): a null there is refused, not passed on to the database's NOT NULL."""
    for name in sorted(body.model_fields_set):
        field = OrganizationIn.model_fields[name]
        if getattr(body, name) is None and (field.is_required() or field.default is not None):
            raise Invalid(f"{name}: an organisation always has one; leave {name} out to keep it", field=name)


@router.patch("/{organization_id}", summary="Change an organisation", responses=errors(409))
def update_organization(
    organization_id: str, body: OrganizationPatch, _: Writer, catalogue: CatalogueDep
) -> OrganizationOut:
    _kept(body)
    return organizations.update(catalogue, organization_id, body)


@router.post(
    "/{organization_id}/archive",
    summary="Archive an organisation that has no active communities",
    responses=errors(409),
)
def archive_organization(organization_id: str, _: Writer, catalogue: CatalogueDep) -> OrganizationOut:
    return organizations.archive(catalogue, organization_id)
