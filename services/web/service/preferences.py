"""A person's notification settings, read and saved through the notifications service's
`/v1/preferences` as that person (the form's rules are in `services/web/preferences.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from services.web import preferences as form
from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.answers import Answer


class QuietHours(Answer):
    start: str
    end: str


class PreferencesAnswer(Answer):
    channels: list[str] = Field(default_factory=list)
    opted_out: list[str] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None
    daily_cap: int = 10
    paused_until: datetime | None = None
    sms_available: bool = False


@dataclass(frozen=True)
class Settings:
    """The person's preferences as the service keeps them and as the form shows them."""

    answer: PreferencesAnswer
    choices: form.Choices
    shows_digest: bool
    sms_available: bool


def _settings(answer: PreferencesAnswer, user: WebUser, now: datetime) -> Settings:
    quiet = (answer.quiet_hours.start, answer.quiet_hours.end) if answer.quiet_hours else None
    choices = form.choices_of(answer.channels, answer.opted_out, quiet, answer.daily_cap, answer.paused_until, now)
    return Settings(answer, choices, user.role in form.DIGEST_ROLES, answer.sms_available)


def settings(pages: Pages, user: WebUser) -> Settings:
    answer = pages.notifications.get(user, "/v1/preferences", PreferencesAnswer)
    return _settings(answer, user, pages.runtime.clock.now())


def save(pages: Pages, user: WebUser, current: Settings, choices: form.Choices) -> Settings:
    """Replace the person's preferences with the form's choices (a backing refusal is a
    BackendError whose fields name the form's)."""
    body = form.body_of(choices, current.answer.opted_out, shows_digest=current.shows_digest)
    response = pages.notifications.call(user, "PUT", "/v1/preferences", json=body)
    answer = PreferencesAnswer.model_validate_json(response.content)
    return _settings(answer, user, pages.runtime.clock.now())
