"""Referrals operator commands: the citizen keys' KEK, erasures after a restore, retention.

Mounted as `vejviser referrals ...`; also `python -m services.referrals ...`. Both read the
service's settings from the environment (`KEY_STORE_URL`, `CITIZEN_KEK_FILE`, …).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from services.referrals.crypto import kek_from_settings
from services.referrals.kek import FileKek, KeyStoreError
from services.referrals.keystore import KeyStore, rotate
from services.referrals.settings import ReferralsSettings
from shared.db import Database

app = typer.Typer(
    help="Referrals: the citizen keys' key-encryption key, erasures after a restore, the retention run.",
    no_args_is_help=True,
)
keys = typer.Typer(help="The key-encryption key (KEK) that wraps every citizen's key.", no_args_is_help=True)
app.add_typer(keys, name="keys")


def _settings() -> ReferralsSettings:
    try:
        return ReferralsSettings()
    except ValueError as exc:  # a setting missing outside development: say which
        raise typer.BadParameter(str(exc)) from None


@app.command("retention")
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count who is past the limit; erase nobody")] = False,
) -> None:
    """Erase the citizens past the profile's retention limit now, as the nightly job does
    (docs/referrals.md, "Audit, access requests and retention"). Its events wait in the
    outbox for the service's relay."""
    from services.referrals.main import build

    service = build(_settings()).state.referrals
    service.runtime.db.create_schema(service.runtime.metadata)
    try:
        report = service.retention.run(dry_run=dry_run)
    finally:
        service.vault.close()
        service.runtime.db.dispose()
    verb = "would be erased" if dry_run else "erased"
    typer.echo(
        f"{report.citizens_erased} citizens {verb}: their last referral ended more than "
        f"{report.months_after_end} months ago; {report.referrals_cancelled} open referrals cancelled"
    )


@app.command("reapply-erasures")
def reapply_erasures() -> None:
    """After restoring the referrals database from a backup: erase again every citizen whose
    key the key store destroyed since (their sealed data is unreadable already; this clears the
    rest and cancels their open referrals). Its events wait in the outbox for the relay."""
    from services.referrals.main import build

    service = build(_settings()).state.referrals
    service.runtime.db.create_schema(service.runtime.metadata)
    try:
        count = service.citizens.reapply_erasures(actor_id="restore")
    finally:
        service.vault.close()
        service.runtime.db.dispose()
    typer.echo(f"{count} citizens erased again (their keys were destroyed after the backup was taken)")


@app.command("purge-bus")
def purge_bus() -> None:
    """After restoring JetStream from a backup: purge again, from the streams and the DLQ, every
    message that carries the attributes of a citizen erased since (the key store keeps who:
    their destroyed keys). Connects as the operator (`admin`), like `vejviser dlq`."""
    import asyncio
    import os

    from shared.nats_auth import operator_connect

    settings = _settings()
    store = KeyStore(Database(settings.key_store_url), kek_from_settings(settings))
    try:
        erased = sorted(store.destroyed())
    finally:
        store.dispose()

    async def purge_all() -> None:
        from shared.bus import purge_citizen

        nc = await operator_connect(os.environ.get("NATS_URL"))  # else the server `make run` started
        try:
            js = nc.jetstream()
            for citizen_ref in tqdm(erased, unit="citizen", desc="purge"):
                await purge_citizen(js, citizen_ref)
        finally:
            await nc.close()

    asyncio.run(purge_all())
    typer.echo(f"purged the bus of {len(erased)} erased citizens' attributes")


@keys.command("init")
def init() -> None:
    """Make the KEK file at CITIZEN_KEK_FILE (mode 0600) with one new KEK; refuses to overwrite."""
    path = Path(_settings().citizen_kek_file)
    try:
        kek = FileKek.create(path)
    except KeyStoreError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"made {path} with KEK {kek.active_id}; keep it out of every database backup")


@keys.command("rotate")
def rotate_command() -> None:
    """A new active KEK; every citizen key rewrapped with it; KEKs no key uses are dropped."""
    settings = _settings()
    try:
        kek = kek_from_settings(settings)
    except KeyStoreError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    store = KeyStore(Database(settings.key_store_url), kek)
    bar = tqdm(total=store.count(), unit="key", desc="rewrap")
    try:
        done = rotate(kek, store, progress=bar.update)
    finally:
        bar.close()
        store.dispose()
    dropped = ", ".join(done.dropped) or "none"
    typer.echo(f"active KEK {done.active}; {done.rewrapped} keys rewrapped; dropped from the file: {dropped}")
