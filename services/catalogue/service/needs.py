"""Needs (what citizens miss, where) and association network meetings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from services.catalogue.domain import check_area, check_categories, page_count
from services.catalogue.schemas import NeedIn, NetworkMeetingIn
from services.catalogue.service.catalogue import Catalogue
from services.catalogue.store import Need, NetworkMeeting, Organization, meetings, needs
from services.catalogue.views import MeetingOut, NeedOut, NeedPage, meeting_view, need_view
from shared.clock import local
from shared.errors import Conflict, Invalid
from shared.events import Event
from shared.events.catalogue import NeedRecorded, NetworkMeetingHeld
from shared.ids import new_id
from shared.principal import Principal
from shared.uow import UnitOfWork


def add_need(
    session: Session, need: NeedRecorded, recorded_on: date, now: datetime, *, where: str = "", exact: bool = False
) -> Need:
    """Record `need` with its area and category as the profile's codes (`where` prefixes the
    field names of a refusal: "data." for an ingested event, which must carry codes: `exact`)."""
    if session.get(Need, need.need_id) is not None:
        raise Conflict(f"need {need.need_id!r} is recorded already")
    row = Need(
        id=need.need_id,
        area=check_area(need.area, f"{where}area", exact=exact),
        category=check_categories([need.category], f"{where}category", exact=exact)[0],
        description=need.description,
        recorded_by=need.recorded_by,
        recorded_on=recorded_on,
        recorded_at=now,
    )
    session.add(row)
    return row


def add_meeting(
    session: Session, meeting: NetworkMeetingHeld, held_on: date, notes: str, now: datetime, *, check: bool = True
) -> NetworkMeeting:
    if session.get(NetworkMeeting, meeting.meeting_id) is not None:
        raise Conflict(f"network meeting {meeting.meeting_id!r} is recorded already")
    if check:
        for org_id in meeting.organization_ids:
            if session.get(Organization, org_id) is None:
                raise Invalid(f"no organisation with id {org_id!r}", field="organization_ids")
    row = NetworkMeeting(
        id=meeting.meeting_id,
        held_on=held_on,
        topic=meeting.topic,
        organizer_id=meeting.organizer_id,
        organization_ids=list(dict.fromkeys(meeting.organization_ids)),
        notes=notes,
        recorded_at=now,
    )
    session.add(row)
    return row


# ---------------------------------------------------------------------- use cases


def record(catalogue: Catalogue, data: NeedIn, principal: Principal) -> NeedOut:
    def work(uow: UnitOfWork) -> NeedOut:
        now = uow.now()
        row = add_need(
            uow.session,
            NeedRecorded(
                need_id=new_id(),
                area=data.area,
                category=data.category,
                description=data.description,
                recorded_by=principal.actor_id,
            ),
            data.recorded_on or local(now).date(),
            now,
        )
        uow.stage(_recorded(row))
        return need_view(row)

    return catalogue.runtime.write(work)


def _recorded(row: Need) -> Event:
    return NeedRecorded(
        need_id=row.id, area=row.area, category=row.category, description=row.description, recorded_by=row.recorded_by
    )


def listing(catalogue: Catalogue, area: str | None, category: str | None, page: int, per_page: int) -> NeedPage:
    area_code = check_area(area, "area") if area else None
    category_code = check_categories([category], "category")[0] if category else None

    def work(session: Session) -> NeedPage:
        total, rows = needs(session, area_code, category_code, per_page, (page - 1) * per_page)
        items = [need_view(n) for n in rows]
        return NeedPage(total=total, page=page, per_page=per_page, pages=page_count(total, per_page), items=items)

    return catalogue.runtime.read(work)


def hold_meeting(catalogue: Catalogue, data: NetworkMeetingIn, principal: Principal) -> MeetingOut:
    def work(uow: UnitOfWork) -> MeetingOut:
        event = NetworkMeetingHeld(
            meeting_id=new_id(),
            organizer_id=principal.actor_id,
            organization_ids=list(dict.fromkeys(data.organization_ids)),
            topic=data.topic,
        )
        row = add_meeting(uow.session, event, data.held_on, data.notes, uow.now())
        uow.stage(event)
        uow.session.flush()
        return meeting_view(row)

    return catalogue.runtime.write(work)


def meeting_listing(catalogue: Catalogue) -> list[MeetingOut]:
    return catalogue.runtime.read(lambda session: [meeting_view(m) for m in meetings(session)])
