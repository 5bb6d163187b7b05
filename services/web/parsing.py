"""Dates and times as people type them into the pages' forms (and as date/time fields send
them), read once for every form: the wizard's consent date, a first visit, quiet hours, a
pause, a training. Pure; None when the text is no date or time."""

from __future__ import annotations

import re
from datetime import date, time

_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DANISH_DAY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")


def day(text: str) -> date | None:
    """ "2026-12-24" (a date field) or "24.12.2026" / "24/12/2026" / "24-12-2026" as a date."""
    text = text.strip()
    iso, danish = _ISO_DAY.fullmatch(text), _DANISH_DAY.fullmatch(text)
    if iso:
        year, month, number = (int(part) for part in iso.groups())
    elif danish:
        number, month, year = (int(part) for part in danish.groups())
    else:
        return None
    try:
        return date(year, month, number)
    except ValueError:
        return None


def clock(text: str, *, minutes_required: bool = False) -> time | None:
    """ "21:00", "21.00" or (unless minutes are required) "21" as a time of day."""
    found = _CLOCK.fullmatch(text.strip())
    if not found or (minutes_required and found[2] is None):
        return None
    hour, minute = int(found[1]), int(found[2] or 0)
    return time(hour, minute) if hour <= 23 and minute <= 59 else None
