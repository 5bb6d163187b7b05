"""How catalogue records look in API answers (English JSON, times in Europe/Copenhagen)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalogue.domain import CATEGORY_BY_ID, WEEKDAY_DA, Capacity, Schedule, local
from services.catalogue.search import Document
from services.catalogue.store import Community, Need, NetworkMeeting, Organization, ScheduleRow


def _iso(value: datetime | None) -> str | None:
    shown = local(value)
    return shown.isoformat() if shown else None


def schedule_view(s: ScheduleRow) -> dict[str, Any]:
    domain = Schedule(s.freq, s.weekday, s.opens_at, s.closes_at, s.week_of_month)  # type: ignore[arg-type]
    return {
        "freq": s.freq,
        "weekday": s.weekday,
        "week_of_month": s.week_of_month,
        "opens_at": s.opens_at.strftime("%H:%M"),
        "closes_at": s.closes_at.strftime("%H:%M"),
        "text_da": domain.describe_da(),
    }


def organization_ref(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "kind": org.kind}


def organization_view(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "hsds_id": org.hsds_id,
        "name": org.name,
        "kind": org.kind,
        "description": org.description,
        "email": org.email,
        "phone": org.phone,
        "website": org.website,
        "created_at": _iso(org.created_at),
        "updated_at": _iso(org.updated_at),
        "archived_at": _iso(org.archived_at),
    }


def capacity_view(c: Community) -> dict[str, Any]:
    open_seats = Capacity(c.capacity_total, c.capacity_available, c.capacity_status).has_open_seats  # type: ignore[arg-type]
    return {
        "total": c.capacity_total,
        "available": c.capacity_available,
        "status": c.capacity_status,
        "open_seats": open_seats,
        "updated_at": _iso(c.capacity_updated_at),
    }


def community_view(c: Community) -> dict[str, Any]:
    contact = None
    if c.contact_name or c.contact_email or c.contact_phone:
        contact = {"name": c.contact_name, "email": c.contact_email, "phone": c.contact_phone}
    return {
        "id": c.id,
        "hsds_id": c.hsds_id,
        "name": c.name,
        "description": c.description,
        "organization": organization_ref(c.organization),
        "categories": list(c.categories),
        "kind": c.kind,
        "starts_on": c.starts_on.isoformat() if c.starts_on else None,
        "ends_on": c.ends_on.isoformat() if c.ends_on else None,
        "languages": list(c.languages or []),
        "cost": c.cost,
        "min_age": c.min_age,
        "max_age": c.max_age,
        "accessibility": c.accessibility,
        "accepts_special_needs": c.accepts_special_needs,
        "accompaniment_welcome": c.accompaniment_welcome,
        "contact": contact,
        "location": {
            "place_name": c.place_name,
            "address": c.address,
            "postal_code": c.postal_code,
            "city": c.city,
            "area": c.area,
            "latitude": c.latitude,
            "longitude": c.longitude,
        },
        "schedules": [schedule_view(s) for s in c.schedules],
        "capacity": capacity_view(c),
        "created_at": _iso(c.created_at),
        "updated_at": _iso(c.updated_at),
        "archived_at": _iso(c.archived_at),
    }


def document_for(c: Community) -> Document:
    """The search index's view of a community."""
    view = community_view(c)
    category_text = " ".join(
        f"{cid} {CATEGORY_BY_ID[cid].name_da}" if cid in CATEGORY_BY_ID else cid for cid in c.categories
    )
    weekdays = {s.weekday for s in c.schedules}
    schedule_text = " ".join(WEEKDAY_DA[d] for d in sorted(weekdays) if d in WEEKDAY_DA)
    return Document(
        id=c.id,
        name=c.name,
        fields={
            "name": c.name,
            "category": category_text,
            "area": " ".join(filter(None, [c.area, c.city, c.place_name])),
            "description": " ".join(filter(None, [c.description, c.organization.name, schedule_text])),
        },
        categories=frozenset(c.categories),
        area=c.area,
        kind=c.kind,
        organization_id=c.organization_id,
        accepts_special_needs=c.accepts_special_needs,
        open_seats=view["capacity"]["open_seats"],
        weekdays=frozenset(weekdays),
        lat=c.latitude,
        lon=c.longitude,
        active=c.archived_at is None,
        modified_at=local(c.updated_at),
        summary=view,
        hsds_id=c.hsds_id,
    )


def need_view(n: Need) -> dict[str, Any]:
    return {
        "id": n.id,
        "area": n.area,
        "category": n.category,
        "description": n.description,
        "recorded_by": n.recorded_by,
        "recorded_on": n.recorded_on.isoformat(),
        "recorded_at": _iso(n.recorded_at),
    }


def meeting_view(m: NetworkMeeting) -> dict[str, Any]:
    return {
        "id": m.id,
        "held_on": m.held_on.isoformat(),
        "topic": m.topic,
        "organizer_id": m.organizer_id,
        "organization_ids": list(m.organization_ids),
        "notes": m.notes,
        "recorded_at": _iso(m.recorded_at),
    }
