"""Danish message text from Jinja2 templates: a subject, a plain-text body and an HTML body.

Times are stored in UTC and shown on the Copenhagen wall clock; areas are
stored as the profile's codes and shown by their Danish labels; the footer names the
municipality's programme from the profile. Templates never receive a citizen's identity:
only the referral's facts (community, accompaniment, special consideration).

A message is stored as its rule (the template) and its facts as JSON (`stored`), and
rendered when it is sent or read, not when it is decided: rendering three templates cost
more than all the rest of deciding a message. Times in the stored facts are ISO strings,
which the time filters read back, so the text is the same either way. One-click links are
signed then too (`OneClick`), from the holder and issue time the facts name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context, select_autoescape
from jinja2.runtime import Context

from services.notifications.domain import COMMUNITY_PREFIX, Rule
from shared.danish import da_date, da_datetime
from shared.links import FOLLOW_UP_VALIDITY, LINK_VALIDITY, Link, community_link, link_url
from shared.principal import Role
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
    Rule.visit_proposed: "Forslag til første besøg i {{ community_name }}: {{ visit_at | tidspunkt }}",
    Rule.no_show: "Borgeren kom ikke til {{ community_name }}",
    Rule.participation_followup: "Deltager borgeren stadig i {{ community_name }}?",
    Rule.participation_reminder: "Påmindelse: Deltager borgeren stadig i {{ community_name }}?",
    Rule.participation_unanswered: "Ingen svar på opfølgning: {{ community_name }} efter {{ weeks }} uger",
}

# The community contact's one-click answers to a new referral (shared/links.py actions).
CONTACT_MOVES = (
    ("accept", "Vi har taget imod henvisningen"),
    ("propose_visit", "Foreslå et første besøg"),
    ("welcome", "Borgeren er budt velkommen"),
    ("no_show", "Borgeren kom ikke"),
)
CONTACT_REFUSALS = (
    ("reject:full", "Vi er fulde"),
    ("reject:not_suitable", "Det passer ikke hos os"),
    ("reject:no_contact", "Vi kan ikke få kontakt"),
)

HAPPENINGS = {
    "created": "henvist",
    "accompaniment_arranged": "følgeskab aftalt",
    "accompanied": "fulgt til første møde",
    "welcomed": "budt velkommen",
    "rejected": "ikke optaget",
    "cancelled": "annulleret",
    "no_show": "kom ikke",
}


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        # A batch's messages share a few UTC times (its clock, the events'): each written once.
        # Another zone's time is written as it is (an equal instant would share the UTC text).
        return _utc_text(value) if value.tzinfo is UTC else value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a fact a message can store")


@lru_cache(maxsize=4096)
def _utc_text(value: datetime) -> str:
    return value.isoformat()


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


def _moment(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class OneClick:
    """Signs a message's one-click links when it is rendered: its facts name the holder (the
    person or community the links act for) and when they were issued, so deciding thousands
    of messages signs none. A message rendered to be sent (or read) later than it was decided,
    after a pause or quiet hours, gets links valid from then (`sent_at`): a month's pause must
    not deliver links that have expired."""

    def __init__(self, web_url: str, secret: str | None) -> None:
        self.web_url, self.secret = web_url, secret

    def link(
        self, holder: Mapping[str, object], issued_at: object, sent_at: object, action: str, subject_id: str
    ) -> str:
        if not self.secret:
            raise ValueError("one-click links need LINK_SIGNING_KEY (Messages(link_secret=...))")
        validity = FOLLOW_UP_VALIDITY if action.startswith("participation:") else LINK_VALIDITY
        issued, actor_id = _moment(issued_at), str(holder["actor_id"])
        if sent_at is not None:
            issued = max(issued, _moment(sent_at))
        communities = tuple(str(c) for c in cast("list[object]", holder.get("communities") or []))
        if actor_id.startswith(COMMUNITY_PREFIX):
            made = community_link(action, subject_id, actor_id.removeprefix(COMMUNITY_PREFIX), issued, validity)
        else:
            made = Link(action, subject_id, actor_id, Role(str(holder["role"])), communities, issued + validity)
        return link_url(self.web_url, self.secret, made)

    def template_function(self) -> object:
        @pass_context
        def one_click(context: Context, action: str, subject_id: str | None = None) -> str:
            """`{{ one_click("accept") }}`: the link for this message's holder, about its
            referral (or, for capacity and pause, the community: `one_click("pause", community_id)`)."""
            subject = subject_id if subject_id is not None else str(context["referral_id"])
            return self.link(context["holder"], context["issued_at"], context.get("sent_at"), action, subject)

        return one_click


class Messages:
    """The templates, compiled once (a bulk run renders thousands of messages)."""

    def __init__(self, web_url: str = "http://localhost:8000", *, link_secret: str | None = None) -> None:
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
            environment.globals.update(
                happenings=HAPPENINGS,
                contact_moves=CONTACT_MOVES,
                contact_refusals=CONTACT_REFUSALS,
                link_days=LINK_VALIDITY.days,
                programme=profile().programme,
                web=web_url.rstrip("/"),
                one_click=OneClick(web_url, link_secret).template_function(),
            )
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

    def render(self, rule: Rule, context: Mapping[str, object], *, sent_at: datetime | None = None) -> Rendered:
        """`sent_at`: when the message goes out or is read (its links are valid from then)."""
        if sent_at is not None:
            context = {**context, "sent_at": sent_at}
        subject, text, html = self.templates[rule]
        return Rendered(
            subject=subject.render(context).strip(),
            text=text.render(context).strip() + "\n",
            html=html.render(context),
        )

    def render_stored(self, rule: str, context: str, *, sent_at: datetime | None = None) -> Rendered:
        """A stored message (its rule and its facts as JSON, see `stored`)."""
        return self.render(Rule(rule), json.loads(context), sent_at=sent_at)
