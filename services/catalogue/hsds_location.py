"""Where a community meets, as an HSDS 3.0 location with its address and accessibility.

The area travels as the address `region` (its Danish name); the profile's region as
`state_province`; an address without postal code or city takes its area's.

Apart from `hsds.py`, whose service and service-at-location records nest it: a place is its
own HSDS record, filled in from the community's place fields and the profile's areas.
"""

from __future__ import annotations

from services.catalogue.domain import stable_uuid
from services.catalogue.hsds_models import Accessibility, Address, Location
from services.catalogue.store import Community
from shared.profile import profile


def location_record(community: Community) -> Location:
    location_id = stable_uuid("location", community.id)
    area = profile().area.get(community.area) if community.area in profile().area else None
    area_label = area.label if area else community.area
    postal_code = community.postal_code or (area.postal_code if area else None)
    city = community.city or (area.city if area else None)
    addresses = None
    if community.address and city and postal_code:
        addresses = [
            Address(
                id=stable_uuid("address", community.id),
                location_id=location_id,
                address_1=community.address,
                city=city,
                region=area_label,
                state_province=profile().region,
                postal_code=postal_code,
                country="DK",
                address_type="physical",
            )
        ]
    accessibility = None
    if community.accessibility:
        accessibility = [
            Accessibility(
                id=stable_uuid("accessibility", community.id),
                location_id=location_id,
                description=community.accessibility,
            )
        ]
    has_point = community.latitude is not None and community.longitude is not None
    return Location(
        id=location_id,
        location_type="physical",
        name=community.place_name or area_label,
        description=f"Område: {area_label}",
        latitude=community.latitude if has_point else None,
        longitude=community.longitude if has_point else None,
        addresses=addresses,
        accessibility=accessibility,
    )
