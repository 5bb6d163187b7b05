"""One-click links from mails (`/l/{token}`): what a link will do, and doing it as the person
the link was made for (`shared/links.py`), with no more rights than they have.

The first half is pure: which verbs exist, their Danish words, and the backing call a verb
and its form make (`plan`). The second half reads the link's subject and makes the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.web import domain
from services.web.domain import WebUser
from services.web.service import Pages, reception
from services.web.service.answers import Community, Referral
from services.web.service.backends import BackendError
from services.web.wizard import check_loneliness, loneliness_answers
from shared.links import InvalidLink, Link, verify_link
from shared.profile import profile

# ---------------------------------------------------------------------- the verbs (pure)

# The referral move each referral verb makes (and must be allowed for it to make sense).
REFERRAL_MOVES = {verb: verb for verb in ("accept", "propose_visit", "welcome", "no_show", "reject")} | {
    "participation": "confirm_participation"
}
COMMUNITY_VERBS = ("capacity", "pause")


@dataclass(frozen=True)
class Words:
    """What a link's page says: its heading, what the button will do, the button, and the
    answer after it was done. `{community}` is the community's name."""

    title: str
    explain: str
    button: str
    done: str
    form: str = ""  # "visit" or "pause": the page asks for more than the click


def valid(link: Link) -> bool:
    """Whether the link names a verb (with its arguments) that exists."""
    args = link.arguments
    if link.verb in ("accept", "propose_visit", "welcome", "no_show", "pause"):
        return not args
    if link.verb == "reject":
        return len(args) == 1 and args[0] in domain.DECLINE_WORDS
    if link.verb == "capacity":
        return len(args) == 1 and args[0] in domain.CAPACITY_CHOICES
    if link.verb == "participation":
        return len(args) == 2 and args[0] in ("4", "12") and args[1] in ("yes", "no")
    return False


def words(link: Link) -> Words:
    verb, args = link.verb, link.arguments
    if verb == "accept":
        return Words(
            "Tag imod borgeren",
            "Når du trykker, får den, der henviste, besked om, at {community} tager imod borgeren.",
            "Ja, vi tager imod",
            "Tak! Den, der henviste, får besked om, at I tager imod borgeren.",
        )
    if verb == "propose_visit":
        return Words(
            "Foreslå et første besøg",
            "Skriv, hvornår borgeren kan komme første gang i {community}. Den, der henviste, får besked.",
            "Foreslå besøget",
            "Tak! Forslaget er sendt til den, der henviste.",
            form="visit",
        )
    if verb == "welcome":
        return Words(
            "Bekræft velkomsten",
            "Tryk, når borgeren har været i {community}, og I har budt velkommen.",
            "Borgeren er budt velkommen",
            "Tak for den gode velkomst! Den, der henviste, får besked.",
        )
    if verb == "no_show":
        return Words(
            "Borgeren kom ikke",
            "Tryk, hvis borgeren ikke kom til {community}. Den, der henviste, får besked og kan tale med borgeren"
            " om at prøve igen.",
            "Borgeren kom ikke",
            "Tak for beskeden. Den, der henviste, får besked.",
        )
    if verb == "reject":
        return Words(
            "Sig nej til henvisningen",
            f"{{community}} kan ikke tage imod borgeren: {domain.DECLINE_WORDS[args[0]].lower()}."
            " Den, der henviste, får besked og kan finde et andet fællesskab.",
            "Sig nej til henvisningen",
            "Tak for svaret. Den, der henviste, får besked.",
        )
    if verb == "capacity":
        word = domain.CAPACITY_CHOICES[args[0]].lower()
        return Words(
            "Opdater pladserne",
            f"{{community}} vises som «{word}» for dem, der henviser.",
            f"Vis fællesskabet som {word}",
            f"Tak! {{community}} vises nu som «{word}».",
        )
    if verb == "pause":
        return Words(
            "Sæt mails på pause",
            "Vælg hvor længe {community} ikke skal have mails fra Vejviser. Henvisninger kommer stadig ind og"
            " kan ses, når I logger ind.",
            "Sæt mails på pause",
            "Mails er sat på pause.",
            form="pause",
        )
    still = args[1] == "yes"
    return Words(
        f"Opfølgning efter {args[0]} uger",
        "Deltager borgeren stadig i {community}?" + (" Tryk for at svare ja." if still else " Tryk for at svare nej."),
        "Ja, borgeren deltager stadig" if still else "Nej, borgeren deltager ikke længere",
        "Tak for svaret!",
    )


@dataclass(frozen=True)
class Call:
    """One call to a backing service."""

    service: str  # "referrals", "catalogue" or "notifications"
    method: str
    path: str
    body: dict[str, object] | None = None


def plan(
    link: Link, form: Mapping[str, object], now: datetime, capacity: tuple[int | None, int | None] = (None, None)
) -> tuple[Call | None, list[tuple[str, str]]]:
    """The call a link's button makes with the page's form (and, for capacity, the community's
    total and open seats now), or the fields to fix."""
    verb, args, subject = link.verb, link.arguments, link.subject_id
    if verb == "capacity":
        body = domain.capacity_report(args[0], *capacity)
        return Call("catalogue", "PUT", f"/v1/communities/{subject}/capacity", body), []
    if verb == "pause":
        weeks = str(form.get("weeks") or "")
        if not weeks.isdigit() or int(weeks) not in domain.PAUSE_WEEKS:
            return None, [("weeks", "Vælg hvor længe mails skal holde pause")]
        until = domain.pause_until(int(weeks), now).isoformat()
        return Call("notifications", "PUT", f"/v1/communities/{subject}/pause", {"until": until}), []
    path = f"/v1/referrals/{subject}/{REFERRAL_MOVES[verb]}"
    if verb == "propose_visit":
        day, clock = (str(form.get(name) or "") for name in domain.VISIT_FIELDS)
        visit_at, errors = domain.visit_time(day, clock, now, domain.VISIT_FIELDS)
        return (Call("referrals", "POST", path, {"visit_at": visit_at.isoformat()}) if visit_at else None), errors
    if verb == "reject":
        return Call("referrals", "POST", path, {"reason": args[0]}), []
    if verb == "participation":
        body = {"weeks_after": int(args[0]), "still_participating": args[1] == "yes"}
        return Call("referrals", "POST", path, body), []
    return Call("referrals", "POST", path, {}), []


def already_done(link: Link, referral: Referral) -> bool:
    """Whether the referral has moved past what the link would do (answered, or closed)."""
    if link.verb == "participation":
        return link.arguments[0] in referral.participation or "confirm_participation" not in referral.allowed_actions
    return REFERRAL_MOVES[link.verb] not in referral.allowed_actions


def offers_loneliness(link: Link, referral: Referral) -> bool:
    """After "yes, still participating" at 12 weeks the referrer may ask the three loneliness
    questions again (only where the municipality measures it, and only once)."""
    asks = link.action == "participation:12:yes" and link.role in domain.REFERRING
    return asks and profile().loneliness_scale and "week_12" not in referral.loneliness


def link_user(link: Link) -> WebUser:
    """The link's holder as the backends see them: exactly the person the link was made for."""
    return WebUser(link.actor_id, link.role, "", link.communities)


# ---------------------------------------------------------------------- the use cases


@dataclass
class LinkPage:
    """What `/l/{token}` shows: `state` is "show", "done", "already", "expired" or "invalid";
    "fix" (the form needs more); after a 12-week "yes", "measure" asks the loneliness questions
    and "measured" thanks for the answers."""

    state: str
    link: Link | None = None
    words: Words | None = None
    community_name: str = ""
    referral: Referral | None = None
    community: Community | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    entered: dict[str, str] = field(default_factory=dict)  # the form as sent, shown again to fix

    @property
    def status(self) -> int:
        return {"already": 409, "expired": 410, "invalid": 404, "fix": 422}.get(self.state, 422 if self.errors else 200)


def _refusal(error: BackendError) -> LinkPage:
    """A backing service's 403 or 404: the link is not for this (like a forged one); anything
    else is the error page."""
    if error.forbidden or error.not_found:
        return LinkPage("invalid")
    raise error


def _verified(pages: Pages, token: str) -> Link | LinkPage:
    """The token's link, or the page that refuses it."""
    try:
        link = verify_link(pages.settings.link_signing_key, token, pages.runtime.clock.now())
    except InvalidLink as error:
        return LinkPage("expired" if error.expired else "invalid")
    return link if valid(link) else LinkPage("invalid")


def open_link(pages: Pages, token: str) -> LinkPage:
    """The link's page before its button: what it will do, for which community."""
    link = _verified(pages, token)
    if isinstance(link, LinkPage):
        return link
    user = link_user(link)
    try:
        if link.verb in COMMUNITY_VERBS:
            community = reception.community(pages, user, link.subject_id)
            return LinkPage("show", link, words(link), community.name, community=community)
        referral = pages.referrals.get(user, f"/v1/referrals/{link.subject_id}", Referral)
    except BackendError as error:
        return _refusal(error)
    state = "already" if already_done(link, referral) else "show"
    return LinkPage(state, link, words(link), referral.community_name or "", referral=referral)


def follow_link(pages: Pages, token: str, form: Mapping[str, object]) -> LinkPage:
    """The link's button: the move, as the link's holder; a move already made (or no longer
    possible) is the friendly "already registered" page."""
    shown = open_link(pages, token)
    if shown.state != "show" or shown.link is None:
        return shown
    capacity = shown.community.capacity if shown.community else None
    call, errors = plan(
        shown.link, form, pages.runtime.clock.now(), (capacity.total, capacity.available) if capacity else (None, None)
    )
    shown.entered = {key: str(value) for key, value in form.items()}
    if call is None:
        shown.errors, shown.state = errors, "fix"
        return shown
    backend = {"referrals": pages.referrals, "catalogue": pages.catalogue, "notifications": pages.notifications}
    try:
        backend[call.service].call(link_user(shown.link), call.method, call.path, json=call.body)
    except BackendError as error:
        if error.conflict:
            shown.state = "already"
            return shown
        if error.status == 422:
            shown.errors, shown.state = error.fields or [("form", error.message)], "fix"
            return shown
        return _refusal(error)
    shown.state = "measure" if shown.referral and offers_loneliness(shown.link, shown.referral) else "done"
    return shown


def measure_loneliness(pages: Pages, token: str, form: Mapping[str, str]) -> LinkPage:
    """The loneliness questions after a 12-week "yes", asked with the citizen's consent; only
    the score is kept (by the referrals service). No consent or skipping sends nothing."""
    link = _verified(pages, token)
    if isinstance(link, LinkPage) or link.action != "participation:12:yes":
        return link if isinstance(link, LinkPage) else LinkPage("invalid")
    try:
        referral = pages.referrals.get(link_user(link), f"/v1/referrals/{link.subject_id}", Referral)
    except BackendError as error:
        return _refusal(error)
    shown = LinkPage("measure", link, words(link), referral.community_name or "", referral=referral)
    if not offers_loneliness(link, referral):
        shown.state = "already"
        return shown
    answers, shown.errors = check_loneliness(form)
    shown.entered = {key: str(value) for key, value in answers.items()}
    values = loneliness_answers(answers)
    if shown.errors or values is None:
        shown.state = "measure" if shown.errors else "done"
        return shown
    body = {"moment": "week_12", "answers": values, "consent": True}
    try:
        pages.referrals.call(link_user(link), "POST", f"/v1/referrals/{link.subject_id}/loneliness", json=body)
    except BackendError as error:
        if not error.conflict:
            raise
        shown.state = "already"
        return shown
    shown.state = "measured"
    return shown
