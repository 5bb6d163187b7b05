"""The Jinja2 environment of the pages: autoescaped templates under services/web/templates and
the Danish date filters (times shown on the Copenhagen wall clock)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from shared.clock import local

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
# Vendored files are cached as immutable, so their addresses carry the version (VENDOR.md).
DKFDS_VERSION = "11.2.0"
HTMX_VERSION = "2.0.8"


def _static_version() -> str:
    """A fingerprint of our own CSS/JS, so a changed file gets a new address."""
    digest = hashlib.sha256()
    for name in ("app.css", "app.js", "fonts.css"):
        digest.update((WEB / "static" / name).read_bytes())
    return digest.hexdigest()[:10]


MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
SHORT_MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")


def _moment(value: datetime | date | str) -> datetime | date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return local(value) if value.tzinfo is not None else value
    return value


def local_time(value: datetime | str | None) -> str:
    """'2. dec. 2026 kl. 14.05' in Copenhagen time."""
    if value is None or value == "":
        return ""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return da_date(moment)
    return f"{moment.day}. {SHORT_MONTHS[moment.month - 1]} {moment.year} kl. {moment:%H.%M}"


def da_date(value: datetime | date | str | None) -> str:
    """'2. december 2026' (a datetime on its Copenhagen date)."""
    if value is None or value == "":
        return ""
    moment = _moment(value)
    return f"{moment.day}. {MONTHS[moment.month - 1]} {moment.year}"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.filters["local_time"] = local_time
    templates.env.filters["da_date"] = da_date
    templates.env.globals.update(
        dkfds_version=DKFDS_VERSION, htmx_version=HTMX_VERSION, static_version=_static_version()
    )
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    return templates
