"""The Jinja2 environment of the pages: autoescaped templates under services/web/templates and
the Danish date filters (times shown on the Copenhagen wall clock)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from shared.danish import da_date as danish_date
from shared.danish import da_datetime

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
# Vendored files are cached as immutable, so their addresses carry the version (VENDOR.md).
DKFDS_VERSION = "11.2.0"
HTMX_VERSION = "2.0.8"


def _static_version() -> str:
    """A fingerprint of our own CSS/JS (every file beside the vendored ones, pages' own
    stylesheets included), so a changed file gets a new address."""
    digest = hashlib.sha256()
    for path in sorted((WEB / "static").glob("*.[cj]s*")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def local_time(value: datetime | str | None) -> str:
    """'2. dec. 2026 kl. 14.05' in Copenhagen time."""
    return da_datetime(value, short=True) if value else ""


def da_date(value: datetime | date | str | None) -> str:
    """'2. december 2026' (a datetime on its Copenhagen date)."""
    return danish_date(value) if value else ""


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
