"""Revision and Indsigt, the data protection officer's pages: searching the referrals
service's append-only audit log (`GET /v1/audit`), and a citizen's access request answered
from their export (`GET /v1/citizens/{ref}/export`, which the referrals service audits as
an export for the purpose "Indsigt").

The search is read from the page's GET form by `read_search` (pure: Danish messages tied to
the form's field ids); the dates a person types are whole days on the Copenhagen wall clock,
asked for as the UTC instants where those days begin and end."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, urlencode

from pydantic import Field

from services.web.domain import WebUser
from services.web.parsing import day
from services.web.service import Pages
from services.web.service.answers import Answer
from shared.clock import COPENHAGEN
from shared.privacy import contains_cpr
from shared.purposes import PURPOSES, label_da

PAGE_SIZE = 25
# A citizen's reference and a user's id as Vejviser makes them (UUIDs, "guide-anne",
# "contact:1f2e…"): letters, digits and a few separators, never spaces.
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")
# What was read, in the words of the referrals service's audit log.
WHAT_WORDS = {
    "record": "Borgerens stamoplysninger",
    "contact": "Kontaktoplysninger",
    "note": "Note",
    "shared_contact": "Delte kontaktoplysninger (fornavn og telefon)",
    "referral": "Henvisning",
    "timeline": "Henvisningens forløb",
    "list": "Liste over henvisninger",
    "export": "Alle oplysninger (indsigt)",
}
ROLE_WORDS = {
    "guide": "Fællesskabsguide",
    "professional": "Fagperson",
    "ambassador": "Ambassadør",
    "community_contact": "Kontaktperson i et fællesskab",
    "analyst": "Analytiker",
    "admin": "Administrator",
    "dpo": "Databeskyttelsesrådgiver",
    "municipal_system": "Kommunalt system",
}
PURPOSE_WORDS: dict[str, str] = {code: purpose.label_da for code, purpose in PURPOSES.items()}
# The search form's fields (their names are the page's query string).
SEARCH_FIELDS = ("borger", "bruger", "formaal", "fra", "til")
FIELD_WORDS = {"citizen_ref": "borgerens reference", "actor_id": "bruger-id"}


# ---------------------------------------------------------------------- the search (pure)


@dataclass(frozen=True)
class AuditSearch:
    """What the officer asked for, as the form's fields hold it (`values`) and as read.
    `asked` is false until the form is sent: opening the page reads no entry (a search is
    itself audited, for every citizen it shows)."""

    values: dict[str, str] = field(default_factory=dict)
    asked: bool = False
    citizen_ref: str = ""
    actor_id: str = ""
    purpose: str = ""
    first_day: date | None = None
    last_day: date | None = None
    page: int = 1

    @property
    def params(self) -> dict[str, str | int]:
        """The query of `GET /v1/audit` (the period as UTC instants, its end exclusive)."""
        asked: dict[str, str | int] = {"limit": PAGE_SIZE, "offset": (self.page - 1) * PAGE_SIZE}
        for name in ("citizen_ref", "actor_id", "purpose"):
            if value := getattr(self, name):
                asked[name] = value
        if self.first_day:
            asked["from"] = day_starts(self.first_day).isoformat()
        if self.last_day:
            asked["to"] = day_starts(self.last_day + timedelta(days=1)).isoformat()
        return asked

    def href(self, page: int) -> str:
        """This search's page `page` of results."""
        kept = {name: value for name, value in self.values.items() if name != "side"}
        return "/revision?" + urlencode({**kept, **({"side": page} if page > 1 else {})})

    @staticmethod
    def for_citizen(citizen_ref: str) -> str:
        return "/revision?" + urlencode({"borger": citizen_ref})

    @staticmethod
    def for_actor(actor_id: str) -> str:
        return "/revision?" + urlencode({"bruger": actor_id})


def day_starts(moment: date) -> datetime:
    """The UTC instant at which a Copenhagen day begins."""
    return datetime.combine(moment, time(0), COPENHAGEN).astimezone(UTC)


def read_reference(text: str, field_id: str) -> tuple[str, str | None]:
    """A reference typed into a field, or the Danish reason it is none (a CPR number never
    leaves the page: it is not sent on, so it lands in no other service's log)."""
    text = text.strip()
    if not text:
        return "", None
    if contains_cpr(text):
        return "", "Skriv Vejvisers reference, ikke et CPR-nummer"
    if not REFERENCE.fullmatch(text):
        return "", f"Tjek {FIELD_WORDS[field_id]}: kun bogstaver, tal, bindestreg og punktum, uden mellemrum"
    return text, None


def read_search(values: Mapping[str, str]) -> tuple[AuditSearch, list[tuple[str, str]]]:
    """The search the form holds, and its errors as (field id, Danish message)."""
    entered = {
        name: str(values.get(name, "")).strip() for name in ("borger", "bruger", "formaal", "fra", "til", "side")
    }
    errors: list[tuple[str, str]] = []
    citizen_ref, problem = read_reference(entered["borger"], "citizen_ref")
    if problem:
        errors.append(("borger", problem))
    actor_id, problem = read_reference(entered["bruger"], "actor_id")
    if problem:
        errors.append(("bruger", problem))
    purpose = entered["formaal"]
    if purpose and purpose not in PURPOSE_WORDS:
        errors.append(("formaal", "Vælg et formål fra listen"))
        purpose = ""
    first_day, last_day = day(entered["fra"]), day(entered["til"])
    if entered["fra"] and first_day is None:
        errors.append(("fra", "Skriv fra-datoen som en dato, fx 1.3.2026"))
    if entered["til"] and last_day is None:
        errors.append(("til", "Skriv til-datoen som en dato, fx 31.3.2026"))
    if first_day and last_day and last_day < first_day:
        errors.append(("til", "Til-datoen skal være samme dag som fra-datoen eller senere"))
    page = int(entered["side"]) if entered["side"].isdigit() and 0 < int(entered["side"]) < 100_000 else 1
    asked = any(name in values for name in SEARCH_FIELDS)
    search = AuditSearch(entered, asked, citizen_ref, actor_id, purpose, first_day, last_day, page)
    return search, errors


# ---------------------------------------------------------------------- the audit log


class AuditEntry(Answer):
    at: datetime
    actor_id: str
    role: str
    service: str = "referrals"
    client: str | None = None
    citizen_ref: str | None = None
    referral_id: str | None = None
    what: str
    purpose: str

    @property
    def what_word(self) -> str:
        return WHAT_WORDS.get(self.what, self.what)

    @property
    def purpose_word(self) -> str:
        return label_da(self.purpose)

    @property
    def role_word(self) -> str:
        return ROLE_WORDS.get(self.role, self.role)

    @property
    def source_word(self) -> str:
        """Which service answered, and through which client (the web, or directly)."""
        service = {"referrals": "Henvisningstjenesten"}.get(self.service, self.service)
        return f"{service} via {'webklienten' if self.client == 'web' else self.client}" if self.client else service


class AuditPage(Answer):
    total: int
    entries: list[AuditEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Found:
    """One page of the search's answer, with what the page needs to say where it is."""

    search: AuditSearch
    total: int
    entries: list[AuditEntry]

    @property
    def first(self) -> int:
        return (self.search.page - 1) * PAGE_SIZE + 1 if self.entries else 0

    @property
    def last(self) -> int:
        return self.first + len(self.entries) - 1 if self.entries else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def previous_href(self) -> str | None:
        return self.search.href(self.search.page - 1) if self.search.page > 1 else None

    @property
    def next_href(self) -> str | None:
        return self.search.href(self.search.page + 1) if self.search.page < self.pages else None


def search_audit(pages: Pages, user: WebUser, search: AuditSearch) -> Found:
    answer = pages.referrals.get(user, "/v1/audit", AuditPage, params=search.params)
    if not answer.entries and answer.total and search.page > 1:  # a page past the end: the last one
        return search_audit(pages, user, replace(search, page=-(-answer.total // PAGE_SIZE)))
    return Found(search, answer.total, answer.entries)


# ---------------------------------------------------------------------- access requests


@dataclass(frozen=True)
class Export:
    """Everything held about one citizen: the Danish summary to read out or hand over, and
    the whole export as a JSON file (indented, Danish letters as they are)."""

    citizen_ref: str
    summary_da: str
    document: bytes

    @property
    def filename(self) -> str:
        return f"indsigt-{self.citizen_ref}.json"


def export(pages: Pages, user: WebUser, citizen_ref: str) -> Export:
    answer = pages.referrals.call(user, "GET", f"/v1/citizens/{quote(citizen_ref, safe='')}/export")
    content = answer.json()
    document = json.dumps(content, ensure_ascii=False, indent=2).encode() + b"\n"
    return Export(citizen_ref, str(content.get("summary_da", "")), document)
