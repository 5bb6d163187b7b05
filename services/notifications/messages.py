"""Danish message text from Jinja2 templates: a subject, a plain-text body and an HTML body.

Times are stored in UTC and shown on the Copenhagen wall clock; areas are
stored as the profile's codes and shown by their Danish labels; the footer names the
municipality's programme from the profile. Templates never receive a citizen's identity:
only the referral's facts (community, accompaniment, special consideration).

A message is stored as its rule (the template) and its facts as JSON (`stored`), and
rendered when it is sent or read, not when it is decided: rendering three templates cost
more than all the rest of deciding a message. Times in the stored facts are ISO strings,
which the time filters read back, so the text is the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notifications.domain import Rule
from shared.danish import da_date, da_datetime
from shared.profile import profile

TEMPLATES = Path(__file__).parent / "templates"

SUBJECTS: dict[Rule, str] = {
    Rule.welcome_contact: "En ny deltager er på vej til {{ community_name }}",
    Rule.accompaniment_needed: "Kan du følge en borger til {{ community_name }}?",
    Rule.welcome_followup: "Hvordan gik det med henvisningen til {{ community_name }}?",
    Rule.welcome_escalation: "Ingen velkomst endnu efter {{ days }} dage: {{ community_name }}",
    Rule.welcome_confirmed: "Det lykkedes: velkomst i {{ community_name }}",
    Rule.dormant_referrer: "Fællesskaber i {{ area | area_label if area else 'dit område' }} med plads lige nu",
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


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a fact a message can store")


def stored(context: Mapping[str, object]) -> str:
    """A message's facts as JSON, to be rendered when the message is sent or read."""
    return json.dumps(context, default=_iso, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def area_label(code: str) -> str:
    return profile().area.label(code)


class Messages:
    """The templates, compiled once (a bulk run renders thousands of messages)."""

    def __init__(self, web_url: str = "http://localhost:8000") -> None:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        plain = Environment(undefined=StrictUndefined, autoescape=False)
        for environment in (env, plain):
            environment.filters.update(tidspunkt=da_datetime, dato=da_date, area_label=area_label)
            # Links in a message open the web client's page for it (WEB_PUBLIC_URL).
            environment.globals.update(happenings=HAPPENINGS, programme=profile().programme, web=web_url.rstrip("/"))
        self.templates: dict[Rule, tuple[Template, Template, Template]] = {
            rule: (
                plain.from_string(SUBJECTS[rule]),
                env.get_template(f"{rule}.txt"),
                env.get_template(f"{rule}.html"),
            )
            for rule in Rule
        }
        # Each render copies the template's globals into a new context; a ChainMap (Jinja's
        # default) made that copy most of the cost of a short template. The environment is
        # fixed once built, so a plain dict holds the same names.
        loaded = [env.get_template(name) for name in env.list_templates()]  # held by env's cache
        for template in [*loaded, *(subject for subject, _, _ in self.templates.values())]:
            template.globals = dict(template.globals)

    def render(self, rule: Rule, context: Mapping[str, object]) -> Rendered:
        subject, text, html = self.templates[rule]
        return Rendered(
            subject=subject.render(context).strip(),
            text=text.render(context).strip() + "\n",
            html=html.render(context),
        )

    def render_stored(self, rule: str, context: str) -> Rendered:
        """A stored message (its rule and its facts as JSON, see `stored`)."""
        return self.render(Rule(rule), json.loads(context))
