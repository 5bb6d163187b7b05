"""One-click welcome for volunteer-run communities: `GET/POST /welcome/{token}`.

A community contact without an account confirms the welcome from the signed, expiring link
(shared/welcome.py). The page names the community, never the citizen. A link works once:
after the welcome the referral is no longer open, so the second use answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from services.referrals import domain
from services.referrals.api import COPENHAGEN, Context
from services.referrals.store import Community, Referral
from shared.errors import Conflict
from shared.events.referrals import WelcomeConfirmed
from shared.welcome import InvalidWelcomeToken, verify_welcome

CONFIRMED_BY = "welcome-link"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
DONE = frozenset({domain.Status.welcomed, domain.Status.participating, domain.Status.ended})
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


def page(status: int, title: str, *lines: str, confirm: bool = False) -> HTMLResponse:
    html = _templates.get_template("welcome.html").render(title=title, lines=lines, confirm=confirm)
    return HTMLResponse(html, status_code=status)


def danish_date(value: datetime) -> str:
    local = value.astimezone(COPENHAGEN)
    return f"{local.day}. {MONTHS[local.month - 1]} {local.year}"


def welcome_router(ctx: Context) -> APIRouter:
    router = APIRouter(tags=["welcome"], include_in_schema=True)

    def referral_id_of(token: str) -> str | HTMLResponse:
        secret = ctx.settings.welcome_link_secret
        try:
            referral_id = verify_welcome(secret, token, now=_EPOCH)  # the signature alone
        except InvalidWelcomeToken:
            return page(404, "Linket virker ikke", "Linket er ikke gyldigt. Tjek, at hele linket er kopieret med.")
        try:
            verify_welcome(secret, token, now=ctx.clock())
        except InvalidWelcomeToken:
            return page(
                410,
                "Linket er udløbet",
                "Linket til at bekræfte velkomsten er udløbet.",
                "Kontakt fællesskabsguiden, hvis borgeren er blevet taget godt imod, så registrerer vi det.",
            )
        return referral_id

    def answer_for_closed(referral: Referral, community: str) -> HTMLResponse | None:
        status = domain.Status(referral.status)
        if status in DONE:
            return page(
                409, "Velkomsten er allerede bekræftet", f"Velkomsten i {community} er allerede registreret. Tak!"
            )
        if status not in domain.OPEN:
            return page(
                409,
                "Henvisningen er ikke længere aktiv",
                f"Henvisningen til {community} er afsluttet, så der er intet at bekræfte.",
            )
        return None

    def open_referral(session: Session, referral_id: str) -> tuple[Referral, str] | HTMLResponse:
        """The referral and its community's name, or the page saying why there is nothing to do."""
        referral = session.get(Referral, referral_id, populate_existing=True)
        if referral is None:
            return page(404, "Henvisningen findes ikke", "Vi kan ikke finde henvisningen, som linket hører til.")
        row = session.get(Community, referral.community_id)
        community = row.name if row else "fællesskabet"
        return answer_for_closed(referral, community) or (referral, community)

    def on_open_referral(
        token: str, then: Callable[[Session, Referral, str], HTMLResponse]
    ) -> Callable[[Session], HTMLResponse] | HTMLResponse:
        """The unit of work running `then` on the token's open referral, or the page saying
        why there is none (a bad or expired link needs no database)."""
        found = referral_id_of(token)
        if isinstance(found, HTMLResponse):
            return found

        def work(session: Session) -> HTMLResponse:
            opened = open_referral(session, found)
            return opened if isinstance(opened, HTMLResponse) else then(session, *opened)

        return work

    @router.get("/welcome/{token}", response_class=HTMLResponse, summary="The one-click welcome page (Danish)")
    def show(token: str) -> HTMLResponse:
        def ask(_session: Session, referral: Referral, community: str) -> HTMLResponse:
            lines = [
                f"En borger er henvist til {community} den {danish_date(referral.created_at)}.",
                "Når borgeren er kommet og er blevet taget godt imod, så tryk på knappen.",
            ]
            if referral.needs_accompaniment:
                lines.append("Borgeren kommer måske sammen med en, der følges med.")
            return page(200, f"Velkommen i {community}", *lines, confirm=True)

        work = on_open_referral(token, ask)
        return work if isinstance(work, HTMLResponse) else ctx.read(work)

    @router.post("/welcome/{token}", response_class=HTMLResponse, summary="Confirm the welcome")
    def confirm(token: str) -> HTMLResponse:
        def welcome(session: Session, referral: Referral, community: str) -> HTMLResponse:
            event = WelcomeConfirmed(
                referral_id=referral.referral_id, community_id=referral.community_id, confirmed_by=CONFIRMED_BY
            )
            ctx.applier.move(session, ctx.stage(session, event), event, referral)
            return page(200, "Tak for velkomsten!", f"Velkomsten i {community} er registreret.")

        work = on_open_referral(token, welcome)
        if isinstance(work, HTMLResponse):
            return work
        try:
            return ctx.write(work)
        except Conflict:
            # Lost a race with another confirmation: the welcome is registered either way.
            return page(409, "Velkomsten er allerede bekræftet", "Velkomsten er allerede registreret. Tak!")

    return router
