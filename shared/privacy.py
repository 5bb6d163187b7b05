"""Data minimisation helpers: no CPR numbers anywhere in Vejviser."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# DDMMYY-NNNN or DDMMYYNNNN with a plausible day and month; the dash may be a space.
CPR_PATTERN = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}[- ]?\d{4}(?!\d)")

CPR_MESSAGE = (
    "contains something shaped like a CPR number; Vejviser never stores CPR numbers, "
    "please remove it (indeholder noget, der ligner et CPR-nummer; fjern det venligst)"
)


def contains_cpr(text: str) -> bool:
    return bool(CPR_PATTERN.search(text))


def no_cpr(value: str) -> str:
    if contains_cpr(value):
        raise ValueError(CPR_MESSAGE)
    return value


FreeText = Annotated[str, AfterValidator(no_cpr)]
"""A free-text field that refuses CPR-shaped numbers with a clear message."""


def find_cpr(value: object, path: str = "") -> str | None:
    """The dotted path of the first string inside `value` that holds a CPR-shaped number."""
    if isinstance(value, str):
        return path or "value" if contains_cpr(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)  # type: ignore[assignment]
    else:
        return None
    for key, item in items:
        found = find_cpr(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None
