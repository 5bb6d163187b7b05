"""Schema migrations: one Alembic environment per service database, all driven from here.

Each database has its own history: the catalogue's, the referrals', the referrals key store's,
the notifications', the analytics' and the web's. A service's folder holds only its revisions
(`services/<service>/migrations/versions/`, the key store's under `migrations/keystore/`); the
environment (what env.py does elsewhere) is this module, so the services share one way of
migrating and nothing has an alembic.ini. Revisions are named `<schema>_<NNNN>` so no two
histories can mix, and `<schema>_0001` is the schema the previous release built with
`create_all` (commit 1a12c70).

`migrate()` brings a database to head in one transaction. It is what every start does:
- an empty database is created by migrating;
- a database with the tables but no `alembic_version` (made by `create_all` of an older
  release) is stamped: head if it already matches the models, else `0001`, and upgraded;
- concurrent starts of one service wait for each other: SQLite's write lock (the transaction
  begins IMMEDIATE, shared/db.py) or, on PostgreSQL, an advisory lock held by the transaction.

The commands (docs/operations.md, "Migrations"):
    python -m shared.migrations upgrade <schema> [--url URL]
    python -m shared.migrations current <schema> [--url URL]
    python -m shared.migrations revision <schema> -m "what changed"
"""

from __future__ import annotations

import hashlib
import importlib
import io
import logging
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
import typer
from alembic import op
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations.ops import DowngradeOps, UpgradeOps
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.types import TypeDecorator

from shared.db import Database

VERSION_TABLE = "alembic_version"

log = logging.getLogger("vejviser.migrations")
# Alembic's own INFO lines ("Context impl SQLiteImpl.") would come at every start; what was
# migrated is logged here instead.
logging.getLogger("alembic").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Schema:
    """One database's migrations: `name` prefixes its revisions; `base` is the declarative base
    (`module:attribute`) whose metadata holds its tables once `models` (a module importing
    every table) is imported; `bus` adds the outbox and inbox tables its runtime adds."""

    name: str
    package: str
    base: str
    models: str
    bus: bool = True
    url_variable: str = "DATABASE_URL"

    @property
    def folder(self) -> Path:
        module = importlib.import_module(self.package)
        assert module.__file__ is not None
        return Path(module.__file__).parent

    def declared(self) -> MetaData | None:
        """The metadata of the base, if its module is imported (no import: this is a lookup)."""
        module_name, _, attribute = self.base.partition(":")
        module = sys.modules.get(module_name)
        base = getattr(module, attribute, None) if module is not None else None
        metadata = getattr(base, "metadata", None)
        return metadata if isinstance(metadata, MetaData) else None


def _service(name: str, base: str) -> Schema:
    return Schema(name, f"services.{name}.migrations", f"services.{name}.{base}", f"services.{name}.main")


SCHEMAS: dict[str, Schema] = {
    schema.name: schema
    for schema in (
        _service("catalogue", "store:Base"),
        _service("referrals", "tables:Base"),
        Schema(
            "referrals_keys",
            "services.referrals.migrations.keystore",
            "services.referrals.keystore:KeyBase",
            "services.referrals.keystore",
            bus=False,
            url_variable="KEY_STORE_URL",
        ),
        _service("notifications", "store.tables:Base"),
        _service("analytics", "store:Base"),
        _service("web", "store:Base"),
    )
}


class MigrationError(RuntimeError):
    """The database cannot be brought to the schema's head (and nothing was changed)."""


def schema_of(metadata: MetaData) -> Schema | None:
    """The schema whose tables `metadata` declares; None for tables no migration owns (a
    test's or a benchmark's own)."""
    return next((schema for schema in SCHEMAS.values() if schema.declared() is metadata), None)


def target_metadata(schema: Schema) -> MetaData:
    """Every table of the schema as the code declares it now (what head must equal)."""
    importlib.import_module(schema.models)
    metadata = schema.declared()
    assert metadata is not None, f"{schema.base} has no metadata after importing {schema.models}"
    if schema.bus:
        from shared.inbox import Inbox
        from shared.outbox import Outbox

        Outbox(metadata), Inbox(metadata)  # as the runtime does; both keep a table they find
    return metadata


@cache
def scripts(name: str) -> ScriptDirectory:
    """The schema's revisions, read once a process (parsing them is most of a start's cost)."""
    folder = SCHEMAS[name].folder
    return ScriptDirectory(str(folder), version_locations=[str(folder / "versions")])


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock of one schema's migrations (a signed 64-bit key)."""
    return int.from_bytes(hashlib.sha256(f"vejviser-migrations:{name}".encode()).digest()[:8], "big", signed=True)


# ---------------------------------------------------------------------- migrating


def migrate(db: Database, metadata: MetaData) -> None:
    """Bring the database to the head of the schema `metadata` declares, or create the tables
    of a metadata no migration owns (tests' and benchmarks' own tables)."""
    schema = schema_of(metadata)
    if schema is None:
        metadata.create_all(db.engine)
        return
    upgrade(db, schema)


def upgrade(db: Database, schema: Schema, destination: str = "heads") -> None:
    """Upgrade to `destination` (a revision or "heads") in one transaction, under the lock."""
    script = scripts(schema.name)
    with db.engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the file's write lock from here
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(schema.name)})
        context = MigrationContext.configure(conn)
        heads = set(context.get_current_heads())
        if not heads and _has_tables(conn):
            # Made by `create_all` (the previous release; or this code's, in a test's database).
            first = script.get_base()
            context.stamp(script, "heads" if _matches(conn, schema) or first is None else first)
            heads = set(context.get_current_heads())
        foreign = sorted(h for h in heads if not h.startswith(f"{schema.name}_0"))
        if foreign:
            raise MigrationError(
                f"the database {conn.engine.url!r} is at revision {', '.join(foreign)}, not one of the {schema.name} "
                "database's: is its URL another database's?"
            )
        if heads == {r.revision for r in script.get_revisions(destination) if r is not None}:
            return  # at the destination already: every start after the first
        if not heads and destination == "heads":
            # An empty database: the same revisions, rendered to SQL once a process (Alembic's
            # offline mode) and executed; building each revision's tables again cost more than
            # the DDL itself (referrals on SQLite: 150 ms, then 50 ms; docs/operations.md).
            for statement in rendered(schema.name, conn.dialect.name):
                conn.exec_driver_sql(statement)
        else:
            _run(conn, script, lambda revision, _context: script._upgrade_revs(destination, revision))
        log.info("migrated the %s database from %s to %s", schema.name, ", ".join(sorted(heads)) or "-", destination)


def current(db: Database) -> tuple[str, ...]:
    """The revisions the database is at (empty: never migrated)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads()


def _has_tables(conn: Connection) -> bool:
    return any(name != VERSION_TABLE for name in inspect(conn).get_table_names())


def _matches(conn: Connection, schema: Schema) -> bool:
    return not differences(conn, schema)


def differences(conn: Connection, schema: Schema) -> list[Any]:
    """What differs between the database and the models (Alembic's diff tuples; [] when equal)."""
    return list(compare_metadata(MigrationContext.configure(conn), target_metadata(schema)))


class _Statements(io.StringIO):
    """An output buffer that keeps Alembic's offline output one statement at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[str] = []

    def write(self, text: str) -> int:
        statement = text.strip().removesuffix(";")
        if statement and not statement.startswith("--") and statement not in ("BEGIN", "COMMIT"):
            self.statements.append(statement)
        return len(text)


@cache
def rendered(name: str, dialect: str) -> tuple[str, ...]:
    """The statements that take an empty `dialect` database to head: what `alembic upgrade
    heads --sql` prints, the version table's rows included."""
    script = scripts(name)
    output = _Statements()
    steps: Steps = lambda revision, _context: script._upgrade_revs("heads", revision)  # noqa: E731
    with EnvironmentContext(Config(), script, fn=steps, as_sql=True, destination_rev="heads") as environment:
        environment.configure(
            dialect_name=dialect, output_buffer=output, version_table=VERSION_TABLE, transactional_ddl=False
        )
        environment.run_migrations()
    return tuple(output.statements)


Steps = Callable[[Any, MigrationContext], Iterable[RevisionStep]]


def _run(conn: Connection, script: ScriptDirectory, steps: Steps) -> None:
    with EnvironmentContext(Config(), script, fn=steps) as environment:
        environment.configure(connection=conn, version_table=VERSION_TABLE)
        environment.run_migrations()


# ---------------------------------------------------------------------- the outbox and inbox
# Every service's database has them (shared/outbox.py, shared/inbox.py): their steps are written
# once here and each service's revisions call them. Like a revision, a step is never edited once
# released; a change to either table is a new step, called from a new revision of each service.


def create_outbox_and_inbox() -> None:
    """In every `<service>_0001`: the tables as the previous release made them."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
    )
    _unsent_index("sent_at IS NULL")


def drop_outbox_and_inbox() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")


def outbox_set_aside() -> None:
    """In every `<service>_0002`: rows can be set aside (why, since when); the relay's partial
    index leaves them out (a change of its predicate, which autogenerate does not see)."""
    op.add_column("outbox", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("failure", sa.String(length=500), nullable=True))
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    _unsent_index("sent_at IS NULL AND failed_at IS NULL")


def outbox_set_aside_undone() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    _unsent_index("sent_at IS NULL")
    op.drop_column("outbox", "failure")
    op.drop_column("outbox", "failed_at")


def outbox_set_aside_index() -> None:
    """In every `<service>_0003`: the rows set aside have an index of their own, so counting
    them (readiness, metrics) does not read the whole outbox."""
    where = sa.text("failed_at IS NOT NULL")
    op.create_index("ix_outbox_set_aside", "outbox", ["position"], postgresql_where=where, sqlite_where=where)


def outbox_set_aside_index_undone() -> None:
    op.drop_index("ix_outbox_set_aside", table_name="outbox")


def _unsent_index(predicate: str) -> None:
    where = sa.text(predicate)
    op.create_index("ix_outbox_unsent", "outbox", ["position"], postgresql_where=where, sqlite_where=where)


# ---------------------------------------------------------------------- writing a revision


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """A revision names the database type, never our Python type: `UtcDateTime` may change,
    a revision must keep doing what it did."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


REVISION = """\
\"\"\"{message}

Revision {revision} of the {schema} database, after {down}; written {date}.
\"\"\"

import sqlalchemy as sa
from alembic import op
{imports}
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
"""


def revision(schema: Schema, message: str, metadata: MetaData | None = None) -> Path:
    """Write the schema's next revision: what the models (or `metadata`) have that head has not,
    found against a scratch SQLite database migrated to head. Review it before committing: a
    rename reads as a drop and an add, and data moves are yours to write."""
    script = scripts(schema.name)
    down = script.get_current_head()
    number = 1 + sum(1 for _ in script.walk_revisions())
    name = f"{schema.name}_{number:04d}"
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/head.db")
        try:
            upgrade(db, schema)
            with db.engine.connect() as conn:
                opts = {"render_item": render_item, "compare_type": True}
                found = produce_migrations(
                    MigrationContext.configure(conn, opts=opts), metadata or target_metadata(schema)
                )
        finally:
            db.dispose()
    if found.upgrade_ops is None or found.upgrade_ops.is_empty():
        raise ValueError(f"the {schema.name} models and its head ({down}) agree: there is nothing to migrate")
    assert found.downgrade_ops is not None
    code = {"upgrade": _render(found.upgrade_ops), "downgrade": _render(found.downgrade_ops)}
    dialects = sorted({d for d in ("postgresql", "sqlite") if any(f"{d}." in c for c in code.values())})
    imports = "".join(f"from sqlalchemy.dialects import {d}\n" for d in dialects)
    slug = "_".join(re.findall(r"[a-z0-9]+", message.lower()))[:40].rstrip("_")
    path = schema.folder / "versions" / f"{name}_{slug}.py"
    path.write_text(
        REVISION.format(
            message=message,
            revision=name,
            schema=schema.name,
            down=down or "nothing (the first)",
            down_revision=down,
            date=datetime.now(UTC).date().isoformat(),
            imports=imports,
            **code,
        )
    )
    scripts.cache_clear()
    # Formatted as the rest of the code is (ruff comes with the test dependencies).
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=False)
    return path


def _render(ops: UpgradeOps | DowngradeOps) -> str:
    # Alembic indents every line but its opening comment, which is left out with the closing one.
    lines = render_python_code(ops, render_item=render_item).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("# ###")) or "    pass"


# ---------------------------------------------------------------------- commands

cli = typer.Typer(help="Schema migrations of the Vejviser databases (docs/operations.md, Migrations).")
SchemaName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SCHEMAS)}")]
Url = Annotated[str | None, typer.Option(help="The database (default: the service's DATABASE_URL / KEY_STORE_URL)")]


def _schema(name: str) -> Schema:
    if name not in SCHEMAS:
        raise typer.BadParameter(f"no schema {name!r}; the schemas are {', '.join(SCHEMAS)}")
    return SCHEMAS[name]


def _database(schema: Schema, url: str | None) -> Database:
    if url is None:
        if schema.url_variable == "KEY_STORE_URL":
            from services.referrals.settings import ReferralsSettings

            url = ReferralsSettings().key_store_url
        else:
            from shared.settings import Settings

            url = Settings(service=schema.name).database_url
    return Database(url)


@cli.command("upgrade")
def upgrade_command(
    name: SchemaName,
    url: Url = None,
    to: Annotated[str, typer.Option(help="A revision; default: the newest")] = "heads",
) -> None:
    """Migrate a database to head (every start does this too)."""
    schema = _schema(name)
    db = _database(schema, url)
    try:
        upgrade(db, schema, to)
        typer.echo(f"{name}: at {', '.join(current(db))}")
    except MigrationError as exc:
        typer.echo(f"{name}: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()


@cli.command("current")
def current_command(name: SchemaName, url: Url = None) -> None:
    """The revision a database is at, and whether it matches the models."""
    schema = _schema(name)
    db = _database(schema, url)
    try:
        with db.engine.connect() as conn:
            found = differences(conn, schema)
        typer.echo(f"{name}: at {', '.join(current(db)) or 'no revision'}; {len(found)} differences to the models")
    finally:
        db.dispose()


@cli.command("revision")
def revision_command(
    name: SchemaName, message: Annotated[str, typer.Option("--message", "-m", help="What changed, in a line")]
) -> None:
    """Write the next revision from what the models changed (review it, then commit it)."""
    try:
        path = revision(_schema(name), message)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"wrote {path}")


if __name__ == "__main__":
    cli(prog_name="python -m shared.migrations")
