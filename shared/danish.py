"""Dates and times as Danish readers write them, on the Copenhagen wall clock: the pages,
the mails and the welcome page all say "2. december 2026 kl. 14.05"."""

from __future__ import annotations

from datetime import date, datetime

from shared.clock import local

MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip
# Weekdays by the codes schedules use (iCalendar's order, Monday first).
WEEKDAYS = {
    "mon": "mandag",
    "tue": "tirsdag",
    "wed": "onsdag",
    "thu": "torsdag",
    "fri": "fredag",
    "sat": "lørdag",
    "sun": "søndag",
}
SHORT_MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")

Moment = datetime | date | str


def _local(value: Moment) -> datetime | date:
    """An ISO string parsed; an aware time moved to Copenhagen; a date or naive time as it is."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return local(value)
    return value


def da_date(value: Moment) -> str:
    """'2. december 2026' (a time on its Copenhagen date)."""
    moment = _local(value)
    return f"{moment.day}. {MONTHS[moment.month - 1]} {moment.year}"


def da_datetime(value: Moment, *, short: bool = False) -> str:
    """'2. december 2026 kl. 14.05' ('2. dec. 2026 kl. 14.05' when `short`); a date alone
    is written as a date."""
    moment = _local(value)
    if not isinstance(moment, datetime):
        return da_date(moment)
    month = (SHORT_MONTHS if short else MONTHS)[moment.month - 1]
    return f"{moment.day}. {month} {moment.year} kl. {moment:%H.%M}"
