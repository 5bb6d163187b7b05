"""Web client operator commands: the OAuth clients of municipal systems.

Mounted as `vejviser web ...`; also `python -m services.web ...`. Both read the web's
settings from the environment (`DATABASE_URL`, `TOKEN_SIGNING_KEY_FILE`, …).
"""

from __future__ import annotations

from typing import Annotated

import typer

from services.web.service.oauth import AUDIENCES, ClientCredentials
from services.web.settings import WebSettings
from services.web.store import Base
from shared.runtime import Runtime
from shared.tokens import Issuer

app = typer.Typer(help="Web client: the OAuth clients of municipal systems.", no_args_is_help=True)
clients = typer.Typer(
    help="Municipal systems that get tokens by OAuth2 client credentials (POST /oauth/token).", no_args_is_help=True
)
app.add_typer(clients, name="clients")


def _clients() -> ClientCredentials:
    try:
        settings = WebSettings()
        issuer = Issuer.from_settings(settings)
    except ValueError as exc:  # a setting missing outside development: say which
        raise typer.BadParameter(str(exc)) from None
    runtime = Runtime(settings, Base.metadata)
    runtime.db.create_schema(Base.metadata)  # migrates to head (shared/migrations.py)
    return ClientCredentials(runtime, settings, issuer)


@clients.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the system, e.g. 'Jobcenter KMD Momentum'")],
    audience: Annotated[
        list[str] | None, typer.Option(help=f"a service it may call (repeat); default all: {', '.join(AUDIENCES)}")
    ] = None,
) -> None:
    """Register a system; prints its client id and secret (the secret is shown only now)."""
    try:
        client, secret = _clients().add(name, tuple(audience) if audience else AUDIENCES)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"client_id:     {client.client_id}")
    typer.echo(f"client_secret: {secret}")
    typer.echo(f"may call:      {' '.join(client.audiences)}")
    typer.echo("Keep the secret in the system's vault: it is not stored and cannot be shown again.", err=True)


@clients.command("list")
def list_clients() -> None:
    """Every registered system: id, name, services, registered, revoked."""
    found = _clients().clients()
    if not found:
        typer.echo("No clients are registered.")
    for client in found:
        revoked = f"revoked {client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "active"
        typer.echo(
            f"{client.client_id:<24} {client.name:<32} {' '.join(client.audiences):<40} "
            f"{client.created_at:%Y-%m-%d}  {revoked}"
        )


@clients.command("revoke")
def revoke(client_id: Annotated[str, typer.Argument(help="the client id `clients list` shows")]) -> None:
    """Revoke a system: no new token from now; a token it holds dies within its 5 minutes."""
    client = _clients().revoke(client_id)
    if client is None:
        typer.echo(f"No client {client_id!r}; see `clients list`.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked {client.client_id} ({client.name}); its tokens die within 5 minutes.")
