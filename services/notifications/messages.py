"""Danish message text from Jinja2 templates: a subject, a plain-text body and an HTML body.

Times are stored in UTC and shown in Europe/Copenhagen. Templates never receive a citizen's
identity: only the referral's facts (community, accompaniment, special consideration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.domain import Notify, Rule, local

TEMPLATES = Path(__file__).parent / "templates"
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

SUBJECTS: dict[Rule, str] = {
    Rule.welcome_contact: "En ny deltager er på vej til {{ community_name }}",
    Rule.accompaniment_needed: "Kan du følge en borger til {{ community_name }}?",
    Rule.welcome_followup: "Hvordan gik det med henvisningen til {{ community_name }}?",
    Rule.welcome_escalation: "Ingen velkomst endnu efter {{ days }} dage: {{ community_name }}",
    Rule.welcome_confirmed: "Det lykkedes: velkomst i {{ community_name }}",
    Rule.dormant_referrer: "Fællesskaber i {{ area or 'dit område' }} med plads lige nu",
    Rule.weekly_digest: "Din uge med Vejviser",
}

HAPPENINGS = {
    "created": "henvist",
    "accompaniment_arranged": "følgeskab aftalt",
    "accompanied": "fulgt til første møde",
    "welcomed": "budt velkommen",
    "rejected": "ikke optaget",
    "cancelled": "annulleret",
}


def danish_datetime(value: datetime) -> str:
    here = local(value)
    return f"{here.day}. {MONTHS[here.month - 1]} {here.year} kl. {here:%H.%M}"


def danish_date(value: datetime) -> str:
    here = local(value)
    return f"{here.day}. {MONTHS[here.month - 1]} {here.year}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Messages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["tidspunkt"] = danish_datetime
        self.env.filters["dato"] = danish_date
        self.env.globals["happenings"] = HAPPENINGS
        self.plain = Environment(undefined=StrictUndefined, autoescape=False)

    def render(self, notify: Notify, **extra: Any) -> Rendered:
        context = {**notify.context, **extra}
        subject = self.plain.from_string(SUBJECTS[notify.rule]).render(context)
        text = self.env.get_template(f"{notify.rule}.txt").render(context)
        html = self.env.get_template(f"{notify.rule}.html").render(context)
        return Rendered(subject=subject.strip(), text=text.strip() + "\n", html=html)
