"""HTTP clients of the catalogue, referrals and notifications services.

Each call carries a short-lived bearer token minted for the logged-in person, so the backing
service decides with that person's own role and scope (the web client never calls as
itself). The web client is the tokens' issuer: it signs them with its private key
(TOKEN_SIGNING_KEY_FILE, shared/tokens.py) for the one service called (`aud`), and the
services check them against its public keys. A failure becomes a `BackendError` with a
Danish message a page can show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from services.web.domain import WebUser
from shared.tokens import Issuer

T = TypeVar("T")
Model = TypeVar("Model", bound=BaseModel)
Params = Mapping[str, str | int | bool | Sequence[str]]

TOKEN_TTL = timedelta(minutes=5)
# Names this client to the services, which write it into their audit log ("read via the web").
CLIENT_HEADERS = {"X-Vejviser-Client": "web"}
TIMEOUT = httpx.Timeout(10.0, connect=3.0)

SERVICE_NAMES = {
    "catalogue": "Kataloget",
    "referrals": "Henvisningstjenesten",
    "notifications": "Beskedtjenesten",
    "analytics": "Analysetjenesten",
}
# A backing service's field (dotted, as its 422 names it) → the form field a page shows.
FIELD_OF = {
    "consent.date": "consent_date",
    "consent.purpose": "consent_purpose",
    "contact.name": "contact_name",
    "contact.phone": "contact_phone",
    "contact.email": "contact_email",
    "area": "area",
    "note": "note",
    "community_id": "community_id",
    "companion_id": "companion_id",
    "purpose": "purpose",
    "reason": "reason",
    "citizen_ref": "citizen_ref",
    "visit_at": "visit_at",
    "trained_on": "trained_on",
    "topic": "topic",
    "answers": "answers",
    "paused_until": "paused_until",
    "until": "paused_until",
}
FIELD_MESSAGES = {
    "consent_date": "Tjek datoen for samtykket",
    "consent_purpose": "Tjek formålet med samtykket",
    "contact_name": "Tjek borgerens navn",
    "contact_phone": "Tjek telefonnummeret",
    "contact_email": "Tjek e-mailadressen",
    "area": "Vælg et område fra listen",
    "note": "Tjek teksten om hvad der betyder noget for borgeren (skriv ikke CPR-nummer)",
    "community_id": "Fællesskabet kan ikke modtage henvisninger lige nu. Vælg et andet",
    "companion_id": "Den valgte følgeperson kan ikke vælges. Vælg en anden",
    "purpose": "Skriv formålet (mindst 3 tegn, ikke CPR-nummer)",
    "reason": "Vælg en grund",
    "citizen_ref": "Tjek borgerens reference",
    "visit_at": "Skriv dato og klokkeslæt for besøget",
    "trained_on": "Skriv datoen for træningen",
    "topic": "Vælg et emne fra listen",
    "answers": "Svar på alle tre spørgsmål",
    "paused_until": "Skriv en dato i fremtiden",
}


class BackendError(Exception):
    """A backing service said no, or did not answer; `message` is Danish and safe to show."""

    def __init__(self, status: int, message: str, *, detail: str = "", fields: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail
        self.fields = fields or []

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def forbidden(self) -> bool:
        return self.status in (401, 403)

    @property
    def not_found(self) -> bool:
        return self.status == 404


def _error_of(response: httpx.Response) -> tuple[str, object]:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return response.text[:200], None
    return str(error.get("message", "")), error.get("details")


def field_errors(details: object) -> list[tuple[str, str]]:
    """The page's fields a 422's details name (a domain error's one field or a validation list)."""
    named = [details] if isinstance(details, dict) else details if isinstance(details, list) else []
    found: list[tuple[str, str]] = []
    for item in named:
        if not isinstance(item, dict):
            continue
        field = FIELD_OF.get(str(item.get("field", "")).removeprefix("body."))
        if field and field not in [known for known, _ in found]:
            found.append((field, FIELD_MESSAGES[field]))
    return found


def danish_message(service: str, status: int, detail: str) -> str:
    name = SERVICE_NAMES.get(service, service)
    if status in (401, 403):
        return "Du har ikke adgang til det her."
    if status == 404:
        return "Det findes ikke (længere)."
    if status == 409:
        if "full" in detail:
            return "Fællesskabet er fuldt. Vælg et andet fællesskab, eller aftal med fællesskabet at de tager borgeren."
        if "archived" in detail:
            return "Fællesskabet tager ikke imod nye henvisninger. Vælg et andet fællesskab."
        if "participation" in detail:
            return "Deltagelsen er allerede registreret for det tidspunkt."
        return "Henvisningen er lige blevet ændret, så handlingen kan ikke udføres nu. Se den nye status nedenfor."
    if status == 410:
        return "Oplysningerne kan ikke længere læses (borgeren er slettet)."
    if status == 422:
        return "Oplysningerne blev afvist. Tjek felterne og prøv igen."
    return f"{name} svarer ikke lige nu. Prøv igen om lidt."


class Backend:
    """One backing service at `base_url`, called as the logged-in person."""

    def __init__(self, service: str, base_url: str, issuer: Issuer, client: httpx.Client) -> None:
        self.service, self.base_url, self.issuer = service, base_url.rstrip("/"), issuer
        self.client = client

    def _token(self, user: WebUser) -> str:
        return self.issuer.mint(
            audience=self.service,
            actor_id=user.actor_id,
            role=str(user.role),
            communities=list(user.communities),
            ttl=TOKEN_TTL,
        )

    def call(
        self,
        user: WebUser,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: object = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> httpx.Response:
        try:
            response = self.client.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._token(user)}", **CLIENT_HEADERS},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise BackendError(503, danish_message(self.service, 503, ""), detail=type(exc).__name__) from exc
        if response.status_code >= 400:
            detail, details = _error_of(response)
            status = response.status_code
            fields = field_errors(details) if status == 422 else []
            raise BackendError(status, danish_message(self.service, status, detail), detail=detail, fields=fields)
        return response

    def get(
        self,
        user: WebUser,
        path: str,
        model: type[Model],
        params: Params | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> Model:
        return model.model_validate_json(self.call(user, "GET", path, params=params, timeout=timeout).content)

    def get_list(
        self, user: WebUser, path: str, adapter: TypeAdapter[list[T]], params: Params | None = None
    ) -> list[T]:
        return adapter.validate_json(self.call(user, "GET", path, params=params).content)

    def post(self, user: WebUser, path: str, model: type[Model], json: object = None) -> Model:
        return model.model_validate_json(self.call(user, "POST", path, json=json).content)


class Backends:
    """The web client's four backing services on one connection pool."""

    def __init__(
        self, *, catalogue_url: str, referrals_url: str, notifications_url: str, analytics_url: str, issuer: Issuer
    ) -> None:
        self.client = httpx.Client(limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))
        self.catalogue = Backend("catalogue", catalogue_url, issuer, self.client)
        self.referrals = Backend("referrals", referrals_url, issuer, self.client)
        self.notifications = Backend("notifications", notifications_url, issuer, self.client)
        self.analytics = Backend("analytics", analytics_url, issuer, self.client)

    def close(self) -> None:
        self.client.close()
