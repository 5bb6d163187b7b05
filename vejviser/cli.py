"""`vejviser`: operator commands (serve a service, run the whole system, dead letters,
tokens, published interface documents, and each service's own commands)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from typer import _click as click  # typer's own click (it vendors one): its Context and Command
from typer.core import TyperGroup

from shared.settings import SERVICES, TOKEN_AUDIENCES


def _command_module(name: str) -> tuple[str, str] | None:
    """Where a group of commands imported only when named lives, as (module, its Typer app):
    a service's own operator commands (`services/<name>/cli.py: app`), the migrations
    (`shared.migrations: cli`)."""
    if name == "migrate":
        return "shared.migrations", "cli"
    if name in SERVICES and importlib.util.find_spec(f"services.{name}.cli") is not None:
        return f"services.{name}.cli", "app"
    return None


class Commands(TyperGroup):
    """The services' own commands and the migrations are imported when a command line names
    them, not at every start: importing them all took `vejviser dlq list` 3.5 s, of which its
    own work is a fraction. `vejviser --help` still lists (and so imports) them all."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name in ["migrate", *SERVICES] if _command_module(name)]
        return [*super().list_commands(ctx), *lazy]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        where = _command_module(cmd_name) if found is None else None
        if where is None:
            return found
        module_name, attribute = where
        module = importlib.import_module(module_name)
        group = typer.main.get_command(getattr(module, attribute))
        group.name = cmd_name
        # As a group mounted with `add_typer`: the shell-completion options are the top's only.
        group.params = [p for p in group.params if p.name not in {"install_completion", "show_completion"}]
        if group.help is None and module.__doc__:
            group.help = module.__doc__.strip().splitlines()[0]
        return group


app = typer.Typer(help="Vejviser operator commands.", no_args_is_help=True, add_completion=False, cls=Commands)
dlq = typer.Typer(help="Inspect and replay dead-lettered messages (the DLQ stream).", no_args_is_help=True)
app.add_typer(dlq, name="dlq")

NatsUrl = Annotated[
    str,
    typer.Option(
        envvar="NATS_URL",
        help="NATS server with JetStream (default: the one `make run` started, else port 4222); "
        "connects as `admin` (NATS_USER/NATS_PASSWORD, NATS_CREDENTIALS_FILE or var/nats/credentials.json)",
    ),
]


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help=f"one of: {', '.join(SERVICES)}")],
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run one service (HTTP API, consumers, outbox relay)."""
    from shared.serve import serve as run_service

    run_service(name, host=host, port=port)


@app.command()
def run() -> None:
    """Run the whole system locally: NATS, the four services, the mail sink, demo data."""
    from vejviser.dev import main

    raise typer.Exit(main())


@dlq.command("list")
def dlq_list(nats_url: NatsUrl = "") -> None:
    """List dead letters: sequence, consumer, original stream position, event, reason."""
    from shared.bus import list_dead_letters

    async def go() -> None:
        from shared.nats_auth import operator_connect

        nc = await operator_connect(nats_url)
        try:
            letters = await list_dead_letters(nc.jetstream())
        finally:
            await nc.close()
        if not letters:
            typer.echo("The DLQ is empty.")
        for letter in letters:
            typer.echo(
                f"{letter.seq:>6}  {letter.consumer:<32} {letter.stream}#{letter.stream_seq:<8} "
                f"{letter.event_type or '?'} {letter.event_id or '?'}\n        reason: {letter.reason}"
            )

    asyncio.run(go())


@dlq.command("replay")
def dlq_replay(
    seq: Annotated[int, typer.Argument(help="the DLQ sequence number shown by `dlq list`")],
    nats_url: NatsUrl = "",
) -> None:
    """Put a dead letter back on its original subject (consumers' inboxes keep it idempotent)."""
    from nats.js.errors import NotFoundError

    from shared.bus import replay_dead_letter

    async def go() -> None:
        from shared.nats_auth import operator_connect

        nc = await operator_connect(nats_url)
        try:
            letter = await replay_dead_letter(nc.jetstream(), seq)
        except NotFoundError:
            typer.echo(f"No dead letter with sequence {seq}; see `vejviser dlq list`.", err=True)
            raise typer.Exit(1) from None
        finally:
            await nc.close()
        typer.echo(f"Replayed {letter.event_type} {letter.event_id} to {letter.subject}.")

    asyncio.run(go())


@app.command("nats-users")
def nats_users(
    credentials: Annotated[
        Path | None,
        typer.Option(help="JSON of user -> password; made (0600) with random passwords when missing"),
    ] = None,
) -> None:
    """Print the nats-server `authorization` block: a user per service with its permissions
    (shared/nats_auth.py) and `admin`, for a server you run yourself (include it in its config;
    give each service its password as NATS_PASSWORD or the file as NATS_CREDENTIALS_FILE)."""
    from shared.nats_auth import generate_credentials, local_nats_dir, render_authorization

    path = credentials or local_nats_dir() / "credentials.json"
    typer.echo(render_authorization(generate_credentials(path)), nl=False)


@app.command()
def token(
    role: Annotated[
        str, typer.Argument(help="guide, professional, ambassador, community_contact, analyst, admin, municipal_system")
    ],
    actor: Annotated[str, typer.Option(help="the actor id the token speaks for")] = "",
    community: Annotated[list[str] | None, typer.Option(help="communities a community contact receives for")] = None,
    audience: Annotated[list[str] | None, typer.Option(help="a service it is for (repeat); default: all")] = None,
    minutes: Annotated[int, typer.Option(help="lifetime; at most TOKEN_MAX_LIFETIME_SECONDS")] = 60,
) -> None:
    """Issue a bearer token signed with TOKEN_SIGNING_KEY_FILE as TOKEN_ISSUER (development:
    the key under var/keys/, which every local service trusts)."""
    from shared.auth import Role
    from shared.settings import Settings
    from shared.tokens import Issuer

    try:
        parsed = Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}") from None
    try:
        settings = Settings()
        issuer = Issuer.from_settings(settings)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not 0 < minutes * 60 <= settings.token_max_lifetime_seconds:
        limit = settings.token_max_lifetime_seconds // 60
        raise typer.BadParameter(f"--minutes must be 1 to {limit} (TOKEN_MAX_LIFETIME_SECONDS)")
    unknown = sorted(set(audience or ()) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(f"no service {unknown[0]!r}; the services are {', '.join(SERVICES)}")
    typer.echo(
        issuer.mint(
            audience=audience or list(TOKEN_AUDIENCES),
            actor_id=actor or f"{role}-cli",
            role=str(parsed),
            communities=community or (),
            ttl=timedelta(minutes=minutes),
        )
    )


@app.command()
def docs(out: Annotated[Path, typer.Option(help="folder to write into")] = Path("docs")) -> None:
    """Write the AsyncAPI document of the bus, the OpenAPI document of every HTTP API, the bus'
    retention table, and the privacy documents (record of processing activities, DPIA outline)."""
    from vejviser import privacy_docs
    from vejviser.interfaces import write_documents

    for path in [*write_documents(out), *privacy_docs.write_documents(out)]:
        typer.echo(f"wrote {path}")


if __name__ == "__main__":
    app()
