"""Danish templates: every rule renders text and HTML, with Copenhagen times and no citizen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.notifications.domain import Rule
from services.notifications.messages import Messages, stored
from shared.danish import da_datetime

CREATED = datetime(2024, 3, 12, 8, 5, tzinfo=UTC)
SECRET = "unit-link-secret"
COMMUNITY_HOLDER = {"actor_id": "community:c1", "role": "community_contact", "communities": ["c1"]}
PERSON_HOLDER = {"actor_id": "prof-1", "role": "professional", "communities": []}
QUESTION = {"weeks": 4, "welcomed_at": CREATED, "to_contact": False, "holder": PERSON_HOLDER, "issued_at": CREATED}
CONTEXTS: dict[Rule, dict[str, object]] = {
    Rule.welcome_contact: {
        "contact_name": "Birthe",
        "community_id": "c1",
        "holder": COMMUNITY_HOLDER,
        "issued_at": CREATED,
    },
    Rule.accompaniment_needed: {"waited_hours": 49, "as_guide": False},
    Rule.welcome_followup: {"days": 7},
    Rule.welcome_escalation: {"days": 14, "referrer_name": "Mette"},
    Rule.welcome_confirmed: {"welcomed_at": CREATED},
    Rule.dormant_referrer: {
        "name": "Lars",
        "area": "benloese",
        "communities": [{"name": "Gåklubben"}],
        "last_referral_at": None,
    },
    Rule.weekly_digest: {
        "name": "Mette",
        "open": [
            {
                "community_name": "Strik & Snak",
                "created_at": CREATED,
                "referral_id": "r1",
                "needs_accompaniment": True,
                "has_companion": False,
            }
        ],
        "happened": [{"at": CREATED, "kind": "welcomed", "community_name": "Gåklubben", "referral_id": "r2"}],
    },
    Rule.visit_proposed: {"visit_at": datetime(2024, 3, 19, 15, 30, tzinfo=UTC), "as_companion": True},
    Rule.no_show: {},
    Rule.participation_followup: QUESTION,
    Rule.participation_reminder: QUESTION | {"to_contact": True, "holder": COMMUNITY_HOLDER},
    Rule.participation_unanswered: {"weeks": 12, "welcomed_at": CREATED, "asked_name": "Mette"},
}
BASE = {
    "referral_id": "r1",
    "community_name": "Strik & Snak",
    "community_area": "ringsted_syd",
    "created_at": CREATED,
    "needs_accompaniment": True,
    "special_considerations": True,
}


def test_times_are_shown_in_copenhagen() -> None:
    assert da_datetime(CREATED) == "12. marts 2024 kl. 09.05"
    assert da_datetime(datetime(2024, 7, 1, 22, 30, tzinfo=UTC)) == "2. juli 2024 kl. 00.30"


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_renders_danish_text_and_html(rule: Rule) -> None:
    rendered = Messages(link_secret=SECRET).render(rule, {**BASE, **CONTEXTS[rule]})
    assert rendered.subject and "\n" not in rendered.subject
    assert "Venlig hilsen" in rendered.text and "Venlig hilsen" in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>") and 'lang="da"' in rendered.html
    assert "{{" not in rendered.text + rendered.html


@pytest.mark.parametrize("rule", list(Rule))
def test_every_message_links_to_the_settings_page(rule: Rule) -> None:
    rendered = Messages("https://vejviser.kommune.example", link_secret=SECRET).render(rule, {**BASE, **CONTEXTS[rule]})
    assert "https://vejviser.kommune.example/indstillinger" in rendered.text
    assert '<a href="https://vejviser.kommune.example/indstillinger">Indstillinger i Vejviser</a>' in rendered.html


def test_welcome_contact_text_says_what_is_needed_and_escapes_html() -> None:
    rendered = Messages(link_secret=SECRET).render(Rule.welcome_contact, {**BASE, **CONTEXTS[Rule.welcome_contact]})
    assert "brug for følgeskab" in rendered.text and "særlige hensyn" in rendered.text
    assert "Strik &amp; Snak" in rendered.html and "Strik & Snak" in rendered.text
    assert "12. marts 2024 kl. 09.05" in rendered.text


def test_a_welcome_contact_decided_before_one_click_links_still_renders_its_welcome_link() -> None:
    legacy = {**BASE, "contact_name": "Birthe", "welcome_link": "http://r/welcome/abc"}
    rendered = Messages(link_secret=SECRET).render(Rule.welcome_contact, legacy)
    assert "http://r/welcome/abc" in rendered.text and 'href="http://r/welcome/abc"' in rendered.html


def test_digest_marks_missing_accompaniment() -> None:
    rendered = Messages(link_secret=SECRET).render(Rule.weekly_digest, {**CONTEXTS[Rule.weekly_digest]})
    assert "mangler følgeskab" in rendered.text and "budt velkommen" in rendered.text


@pytest.mark.parametrize("rule", list(Rule))
def test_a_stored_message_renders_as_it_would_have_when_decided(rule: Rule) -> None:
    # Messages are stored as their facts (JSON, times as ISO strings) and rendered when sent or read.
    context = {**BASE, **CONTEXTS[rule]}
    messages = Messages(link_secret=SECRET)
    assert messages.render_stored(str(rule), stored(context)) == messages.render(rule, context)


@pytest.mark.parametrize(
    ("rule", "page"),
    [
        (Rule.accompaniment_needed, "/henvisninger/"),
        (Rule.welcome_followup, "/henvisninger/"),
        (Rule.welcome_escalation, "/henvisninger/"),
        (Rule.dormant_referrer, "/soeg"),
        (Rule.weekly_digest, "/henvisninger"),
    ],
)
def test_a_message_links_to_its_page_in_the_web_client(rule: Rule, page: str) -> None:
    context = {**BASE, **CONTEXTS[rule]}
    rendered = Messages("https://vejviser.kommune.example/", link_secret=SECRET).render(rule, context)
    link = "https://vejviser.kommune.example" + page
    if page.endswith("/"):
        link += str(context["referral_id"])
    assert link in rendered.text
    assert f'href="{link}"' in rendered.html


def test_stored_times_keep_their_own_text_when_equal_instants_differ_in_zone() -> None:
    """Stored facts remember UTC times' text; an equal instant in another zone is not given it."""
    utc = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)
    summer = utc.astimezone(timezone(timedelta(hours=2)))
    assert json.loads(stored({"a": utc, "b": summer, "c": utc})) == {
        "a": "2024-03-12T10:00:00+00:00",
        "b": "2024-03-12T12:00:00+02:00",
        "c": "2024-03-12T10:00:00+00:00",
    }
