"""Pure rules of the catalogue: vocabulary, capacity, schedules, identifiers, distances.

No I/O here; everything is unit-tested directly.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal, cast

from shared.clock import local
from shared.danish import WEEKDAYS as WEEKDAYS_DA
from shared.errors import Forbidden, Invalid
from shared.principal import Principal, Role
from shared.profile import profile

CommunityKind = Literal["permanent", "practice_track"]
CapacityStatus = Literal["open", "waitlist", "full"]
OrganizationKind = Literal["association", "municipal_unit", "private_business", "housing_association"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Frequency = Literal["weekly", "monthly"]

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# RFC 5545 BYDAY codes, as HSDS schedules use them.
WEEKDAY_ICAL: dict[Weekday, str] = {
    "mon": "MO",
    "tue": "TU",
    "wed": "WE",
    "thu": "TH",
    "fri": "FR",
    "sat": "SA",
    "sun": "SU",
}
ICAL_WEEKDAY: dict[str, Weekday] = {v: k for k, v in WEEKDAY_ICAL.items()}

# Stable namespace for the UUIDs that HSDS needs where our own ids are not UUIDs (demo data,
# ids sent by municipal systems). uuid5 keeps them the same across restarts and machines.
HSDS_NAMESPACE = uuid.UUID("6f1c4b52-2b7e-4c59-9a53-0c7f4f1f6a01")


def stable_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(HSDS_NAMESPACE, f"{kind}:{key}"))


def term_id(category: str) -> str:
    """The HSDS taxonomy term id of a category code (stable: other directories link to it)."""
    return stable_uuid("category", category)


def category_by_term_id() -> dict[str, str]:
    return {term_id(c.code): c.code for c in profile().category}


def check_area(value: str, field: str = "area", *, exact: bool = False) -> str:
    """The profile's code for an area given as code or Danish label (`exact`: code only, as
    events carry it); else a 422 naming the codes."""
    return profile().area.check(value, field, exact=exact)


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def hsds_id_for(kind: str, our_id: str) -> str:
    """The HSDS id of a record: our id where it already is a UUID, else a stable uuid5."""
    return our_id.lower() if is_uuid(our_id) else stable_uuid(kind, our_id)


def check_categories(categories: list[str], field: str = "categories", *, exact: bool = False) -> list[str]:
    """Category codes (labels accepted unless `exact`), each once, in the order given; at least one."""
    if not categories:
        raise Invalid(f"{field}: give at least one category", field=field)
    return list(dict.fromkeys(profile().category.check_all(categories, field, exact=exact)))


def categories_from_terms(terms: list[str]) -> list[str]:
    """Map another directory's taxonomy term names/codes to our categories (order kept)."""
    found: list[str] = []
    for term in terms:
        text = term.lower()
        for category in profile().category:
            if category.code in found:
                continue
            if text == category.code or any(k in text for k in category.keywords):
                found.append(category.code)
    return found


# ---------------------------------------------------------------------- capacity


CAPACITY_DA: dict[str, str] = {"open": "Ledige pladser", "waitlist": "Venteliste", "full": "Fuldt"}


def capacity_status(value: str) -> CapacityStatus:
    if value not in CAPACITY_DA:
        raise Invalid(f"status: unknown capacity status {value!r}; use one of {', '.join(CAPACITY_DA)}", field="status")
    return cast(CapacityStatus, value)


@dataclass(frozen=True)
class Capacity:
    total: int | None
    available: int | None
    status: CapacityStatus

    @property
    def has_open_seats(self) -> bool:
        return self.status == "open" and (self.available is None or self.available > 0)


def decide_capacity(total: int | None, available: int | None, status: CapacityStatus | None) -> Capacity:
    """Validate a capacity report and derive the status when it is not given.

    No seats left means `full` unless the community keeps a waitlist; open seats mean `open`.
    """
    if total is not None and total < 0:
        raise Invalid("total must be 0 or more", field="total")
    if available is not None and available < 0:
        raise Invalid("available must be 0 or more", field="available")
    if total is not None and available is not None and available > total:
        raise Invalid(f"available ({available}) cannot exceed total ({total})", field="available")
    if status is None:
        status = "open" if available is None or available > 0 else "full"
    if status == "open" and available == 0:
        raise Invalid("status 'open' needs at least one available seat; use 'waitlist' or 'full'", field="status")
    if status == "full" and available:
        raise Invalid("status 'full' cannot have available seats; set available to 0 or use 'open'", field="status")
    return Capacity(total, available, status)


def check_own_community(principal: Principal, community_id: str, doing: str) -> None:
    """Guides and admins act on any community; a community contact only on the communities
    their token lists (a contact logged in by mail, or a one-click link)."""
    if principal.has(Role.guide, Role.admin):
        return
    if principal.role != Role.community_contact or community_id not in principal.communities:
        raise Forbidden(f"only the community's own contact, a guide or an admin may {doing} of {community_id!r}")


def check_capacity_reporter(principal: Principal, community_id: str) -> None:
    check_own_community(principal, community_id, "report seats")


def check_contact_editor(principal: Principal, community_id: str) -> None:
    check_own_community(principal, community_id, "change the contact person")


def contact_email_filter(principal: Principal, value: str | None) -> str | None:
    """The `contact_email` search filter, lower-cased. Only guides and admins may use it:
    it tells who receives for which community (the web's login by mail asks as admin)."""
    if value is None:
        return None
    if not principal.has(Role.guide, Role.admin):
        raise Forbidden("only guides and admins may search by contact e-mail")
    address = value.strip().lower()
    if not address:
        raise Invalid("contact_email must not be empty", field="contact_email")
    return address


# ---------------------------------------------------------------------- the contact person


@dataclass(frozen=True)
class ContactPerson:
    """A community's welcome contact: a volunteer's name, e-mail and phone, and whether they
    consented to be shown in the public feeds. Personal data even though it is directory data:
    staff see it, the public only with `public`."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    public: bool = False

    @property
    def empty(self) -> bool:
        return not (self.name or self.email or self.phone)

    def same_person(self, other: ContactPerson) -> bool:
        """Same name and e-mail (a corrected phone number is still the same person)."""
        return (self.name, (self.email or "").casefold()) == (other.name, (other.email or "").casefold())


def consented(before: ContactPerson, after: ContactPerson, answer: bool | None) -> bool:
    """Whether the contact person `after` is public. Consent is the person's own: their answer
    when one is given; without one (an HSDS import says nothing about consent) a consent stays
    only with the same person; nobody is public where there is no contact person."""
    if after.empty:
        return False
    if answer is not None:
        return answer
    return before.public and before.same_person(after)


# ---------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    freq: Frequency
    weekday: Weekday
    opens_at: time
    closes_at: time
    # For monthly schedules: 1..4 = the first..fourth such weekday, -1 = the last one.
    week_of_month: int | None = None

    @classmethod
    def stored(cls, freq: str, weekday: str, opens_at: time, closes_at: time, week_of_month: int | None) -> Schedule:
        """A schedule as a table row keeps it (plain strings, written from a checked one)."""
        return cls(cast(Frequency, freq), cast(Weekday, weekday), opens_at, closes_at, week_of_month)

    def describe_da(self) -> str:
        day = WEEKDAYS_DA[self.weekday]
        hours = f"kl. {self.opens_at:%H.%M}–{self.closes_at:%H.%M}"
        if self.freq == "weekly":
            return f"Hver {day} {hours}"
        which = {1: "første", 2: "anden", 3: "tredje", 4: "fjerde", -1: "sidste"}.get(self.week_of_month or 1)
        return f"{which.capitalize() if which else 'Første'} {day} i måneden {hours}"


def check_schedule(schedule: Schedule) -> Schedule:
    if schedule.closes_at <= schedule.opens_at:
        raise ValueError("closes_at must be after opens_at")
    if schedule.freq == "monthly" and schedule.week_of_month not in (1, 2, 3, 4, -1):
        raise ValueError("a monthly schedule needs week_of_month 1-4 or -1 (the last)")
    if schedule.freq == "weekly" and schedule.week_of_month is not None:
        raise ValueError("week_of_month only applies to monthly schedules")
    return schedule


def check_kind_dates(kind: str, starts_on: date | None, ends_on: date | None) -> None:
    """A practice track is temporary: it needs a start and an end; a permanent one has none."""
    if kind == "practice_track":
        if starts_on is None or ends_on is None:
            raise ValueError("a practice track needs starts_on and ends_on")
        if ends_on < starts_on:
            raise ValueError("ends_on must be on or after starts_on")


# ---------------------------------------------------------------------- geography

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# ---------------------------------------------------------------------- paging and time


FREE_WORDS = ("gratis", "0 kr", "0,-", "fri entré", "ingen betaling")


def is_free(cost: str | None) -> bool:
    """Whether a community's cost (free text, as associations write it) says it costs nothing.
    An unstated cost is not free: the card says to ask."""
    if cost is None:
        return False
    words = cost.strip().casefold()
    return words == "0" or words.startswith(FREE_WORDS)


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page)) if per_page > 0 else 1


def shown(value: datetime | None) -> datetime | None:
    """A stored UTC time on the Copenhagen clock (SQLite hands back naive UTC values)."""
    if value is None:
        return None
    return local(value if value.tzinfo is not None else value.replace(tzinfo=UTC))
