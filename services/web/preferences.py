"""The notification settings form (`/indstillinger`), pure: the notifications service's
preferences as the form's choices, the form read back with Danish messages tied to field ids,
and the choices as the service's body again (what the form does not show is kept).

A pause is entered as the last day without mail ("til og med"), on the Copenhagen calendar;
the service keeps the moment mail may resume, the start of the next day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from services.web import parsing
from services.web.parsing import day
from shared.clock import COPENHAGEN
from shared.principal import Role

DIGEST_RULE = "weekly_digest"
# Every activated referrer gets the weekly digest (notifications' referrer_activated).
DIGEST_ROLES = frozenset({Role.guide, Role.professional, Role.ambassador})
MAX_DAILY_CAP = 100
MAX_PAUSE = timedelta(days=366)
DEFAULT_QUIET = ("21:00", "07:00")


Errors = list[tuple[str, str]]


@dataclass(frozen=True)
class Choices:
    """What the form shows and sends: where mail goes, the digest, quiet hours, pause, cap."""

    email: bool
    sms: bool
    digest: bool
    quiet: bool
    quiet_from: str  # "HH:MM", Copenhagen
    quiet_to: str
    paused_through: date | None  # the last day without mail and SMS
    daily_cap: int

    def fields(self) -> dict[str, str]:
        """The form's fields as the page fills them in."""
        return {
            "email": "ja" if self.email else "",
            "sms": "ja" if self.sms else "",
            "digest": "ja" if self.digest else "",
            "quiet": "ja" if self.quiet else "",
            "quiet_from": self.quiet_from,
            "quiet_to": self.quiet_to,
            "paused_until": self.paused_through.isoformat() if self.paused_through else "",
            "daily_cap": str(self.daily_cap),
        }


def choices_of(
    channels: Sequence[str],
    opted_out: Sequence[str],
    quiet_hours: tuple[str, str] | None,
    daily_cap: int,
    paused_until: datetime | None,
    now: datetime,
) -> Choices:
    """The notifications service's preferences as the form's choices (a pause that is over
    shows as none)."""
    through = None
    if paused_until is not None and paused_until > now:
        through = (paused_until.astimezone(COPENHAGEN) - timedelta(seconds=1)).date()
    start, end = quiet_hours or DEFAULT_QUIET
    return Choices(
        email="email" in channels,
        sms="sms" in channels,
        digest=DIGEST_RULE not in opted_out,
        quiet=quiet_hours is not None,
        quiet_from=start,
        quiet_to=end,
        paused_through=through,
        daily_cap=daily_cap,
    )


def clock(text: str) -> str | None:
    """ "21:00", "21.00" or "21" as "21:00"; None when it is no time of day."""
    found = parsing.clock(text)
    return found.strftime("%H:%M") if found else None


def pause_end(paused_through: date) -> datetime:
    """When mail may come again after a pause through `paused_through`: the next day's start."""
    return datetime.combine(paused_through + timedelta(days=1), time(0, 0), COPENHAGEN)


def read_form(
    form: Mapping[str, str], now: datetime, *, sms_available: bool, current: Choices
) -> tuple[Choices | None, Errors]:
    """The posted form as choices, or the fields to fix (in the page's order). SMS keeps its
    current value when the form did not offer it."""
    errors: Errors = []
    quiet = form.get("quiet") == "ja"
    start, end = clock(form.get("quiet_from", "")), clock(form.get("quiet_to", ""))
    if quiet and start is None:
        errors.append(("quiet_from", "Skriv hvornår det stille tidsrum begynder, fx 21.00"))
    if quiet and end is None:
        errors.append(("quiet_to", "Skriv hvornår det stille tidsrum slutter, fx 7.00"))
    if quiet and start is not None and start == end:
        errors.append(("quiet_to", "Det stille tidsrum skal slutte på et andet klokkeslæt, end det begynder"))
    paused_text = form.get("paused_until", "").strip()
    paused = day(paused_text) if paused_text else None
    if paused_text and paused is None:
        errors.append(("paused_until", "Skriv datoen som dag.måned.år, fx 24.12.2026"))
    elif paused is not None and paused < now.astimezone(COPENHAGEN).date():
        errors.append(("paused_until", "Skriv en dato fra i dag og frem, eller lad feltet stå tomt"))
    elif paused is not None and pause_end(paused) > now + MAX_PAUSE:
        errors.append(("paused_until", "En pause kan højst vare et år"))
    cap_text = form.get("daily_cap", "").strip()
    if not (cap_text.isdigit() and int(cap_text) <= MAX_DAILY_CAP):
        errors.append(("daily_cap", f"Skriv et helt tal fra 0 til {MAX_DAILY_CAP}"))
    if errors:
        return None, errors
    return Choices(
        email=form.get("email") == "ja",
        sms=form.get("sms") == "ja" if sms_available else current.sms,
        digest=form.get("digest") == "ja",
        quiet=quiet,
        quiet_from=start or current.quiet_from,
        quiet_to=end or current.quiet_to,
        paused_through=paused,
        daily_cap=int(cap_text),
    ), []


def body_of(choices: Choices, opted_out: Sequence[str], *, shows_digest: bool) -> dict[str, object]:
    """The notifications service's `PUT /v1/preferences` body: the choices, with the other
    rules the person opted out of kept (and the digest kept when the form did not show it)."""
    others = [rule for rule in opted_out if rule != DIGEST_RULE]
    digest_off = (not choices.digest) if shows_digest else DIGEST_RULE in opted_out
    return {
        "channels": ["inbox"] + (["email"] if choices.email else []) + (["sms"] if choices.sms else []),
        "opted_out": sorted(others + ([DIGEST_RULE] if digest_off else [])),
        "quiet_hours": {"start": choices.quiet_from, "end": choices.quiet_to} if choices.quiet else None,
        "daily_cap": choices.daily_cap,
        "paused_until": pause_end(choices.paused_through).isoformat() if choices.paused_through else None,
    }
