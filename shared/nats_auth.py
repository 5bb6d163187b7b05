"""Who may do what on NATS: the one table of users and their permissions.

Every service connects as its own user (user/password; `Settings.nats_credentials()`); `admin`
is the operator's user (the CLIs, `make run`'s own tools, the test harness) and may do
everything. Anonymous clients are refused: the server config has an `authorization` block with
these users only, so outside systems have one door, the services' HTTP ingest.

A service may
- publish events only on its own contexts' subjects (`vejviser.<context>.>`, `OWNS`), and dead
  letters on `vejviser.dlq.>`;
- read (create and fetch from a durable pull consumer, ack, get a stream's message) only the
  streams it consumes, through the durables listed in `CONSUMES` (`<service>-<name>`, as
  shared/runtime.py `consume` names them; a test checks the table against every service's
  `consumers.HANDLERS`);
- keep its own dead letters: its durable `dlq-keeper-<service>` on the ADVISORIES work queue;
- subscribe only to its own reply inbox `_INBOX.<service>.>` (shared/bus.py `make_broker` sets
  that prefix), so it cannot read the replies, and so the events, that another service fetches;
- the referrals service alone purges: erasing a citizen purges the erasable streams and the
  DLQ (shared/bus.py `purge_citizen`).

What NATS subject permissions cannot express, and so is allowed:
- every service may create and update every stream of shared/bus.py `stream_configs`, because
  whichever service starts first declares them all (`ensure_streams`). A service could thus
  change another stream's configuration; only `admin` may delete a stream, purge (but for the
  referrals service's erasure) or delete messages;
- a service may read any stream's info (stream names are listed, not wildcarded), which holds
  counts and configuration, never a payload;
- a consumer's subject filter is not a permission: a service's durable on a stream it consumes
  could be created with a filter wider than its handlers need, but only on that stream.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from shared.events import CONTEXTS
from shared.stream_retention import ADVISORY_STREAM, DLQ_STREAM, erasable_contexts, stream_name

if TYPE_CHECKING:
    from nats.aio.client import Client

ADMIN = "admin"
Credentials = dict[str, str]  # user -> password

# The contexts whose events each service publishes (its outbox relays them).
OWNS: dict[str, tuple[str, ...]] = {
    "web": (),  # the web client writes through the other services' APIs
    "catalogue": ("catalogue",),
    "referrals": ("referrals",),
    "notifications": ("notifications",),
    "analytics": ("analytics",),
}

# What each service consumes: context -> the names of its durables on that context's stream
# (the durable is `<service>-<name>`). Must equal the service's consumers.HANDLERS.
CONSUMES: dict[str, dict[str, tuple[str, ...]]] = {
    "web": {},
    "catalogue": {"referrals": ("referral-pressure",)},
    "referrals": {"catalogue": ("communities",)},
    "notifications": {"referrals": ("referrals",), "catalogue": ("catalogue",)},
    "analytics": {context: (f"projection-{context}",) for context in CONTEXTS},
}

# The services that erase citizens, and so purge the erasable streams and the DLQ.
ERASES = frozenset({"referrals"})

USERS: tuple[str, ...] = (*OWNS, ADMIN)

DLQ_SUBJECTS = "vejviser.dlq.>"
LEGACY_DLQ_KEEPER = "dlq-keeper"  # the one shared keeper before each service kept its own
JS_API = "$JS.API"


def durables(service: str) -> list[tuple[str, str]]:
    """(stream, durable) of every consumer the service owns, its dead-letter keeper aside."""
    return [
        (stream_name(context), f"{service}-{name}")
        for context, names in CONSUMES.get(service, {}).items()
        for name in names
    ]


def dlq_keeper(service: str) -> str:
    return f"{LEGACY_DLQ_KEEPER}-{service}"


def inbox_prefix(user: str) -> str:
    """The reply inbox of a user's connection: each user may subscribe to its own only."""
    return f"_INBOX.{user}"


def managed_streams() -> list[str]:
    """Every stream the services declare (shared/bus.py `stream_configs`)."""
    return [*(stream_name(context) for context in CONTEXTS), DLQ_STREAM, ADVISORY_STREAM]


def _reading(stream: str, durable: str) -> list[str]:
    """Create (or update) a durable pull consumer, read its info, fetch from it and ack it.
    nats-py names the filter in the create subject (`CONSUMER.CREATE.<stream>.<durable>.<filter>`),
    without it when the consumer has several filters."""
    api = f"{JS_API}.CONSUMER"
    return [
        f"{api}.CREATE.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}.>",
        f"{api}.INFO.{stream}.{durable}",
        f"{api}.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def publish_allowed(service: str) -> list[str]:
    """Every subject the service may publish on (JetStream's API is requests on subjects)."""
    allowed = [f"vejviser.{context}.>" for context in OWNS[service]]
    allowed.append(DLQ_SUBJECTS)
    allowed.append(f"{JS_API}.INFO")
    for stream in managed_streams():
        allowed += [f"{JS_API}.STREAM.{verb}.{stream}" for verb in ("INFO", "CREATE", "UPDATE")]
    read = durables(service)
    for stream in sorted({s for s, _ in read}):
        # The dead-letter keeper reads the original of a dead letter by its sequence.
        allowed.append(f"{JS_API}.STREAM.MSG.GET.{stream}")
    for stream, durable in read:
        allowed += _reading(stream, durable)
    if read:
        allowed += _reading(ADVISORY_STREAM, dlq_keeper(service))
        allowed.append(f"{JS_API}.CONSUMER.DELETE.{ADVISORY_STREAM}.{LEGACY_DLQ_KEEPER}")
    if service in ERASES:
        purged = [*(stream_name(context) for context in erasable_contexts()), DLQ_STREAM]
        allowed += [f"{JS_API}.STREAM.PURGE.{stream}" for stream in purged]
    return allowed


def subscribe_allowed(service: str) -> list[str]:
    # Pull consumers deliver to the fetching client's inbox: no event subject is subscribed.
    return [f"{inbox_prefix(service)}.>"]


def render_authorization(credentials: Mapping[str, str]) -> str:
    """The nats-server config block with every user of the table (JSON strings are valid
    NATS config strings, and quoting keeps `$JS...` from being read as a variable)."""
    lines = ["authorization {", "  users = ["]
    for user in USERS:
        entry = f"    {{user: {json.dumps(user)}, password: {json.dumps(credentials[user])}"
        if user != ADMIN:
            publish = ", ".join(json.dumps(s) for s in publish_allowed(user))
            subscribe = ", ".join(json.dumps(s) for s in subscribe_allowed(user))
            entry += f", permissions: {{publish: {{allow: [{publish}]}}, subscribe: {{allow: [{subscribe}]}}}}"
        lines.append(entry + "}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def local_nats_dir() -> Path:
    """Where `make run` keeps its own nats-server: the store, `credentials.json` and `url`."""
    from shared.settings import VAR_DIR

    return VAR_DIR / "nats"


def operator_url(nats_url: str | None = None) -> str:
    """The NATS an operator command talks to: `nats_url` (NATS_URL), else the server `make run`
    started (var/nats/url), else the default port."""
    if nats_url:
        return nats_url
    written = local_nats_dir() / "url"
    return written.read_text().strip() if written.exists() else "nats://127.0.0.1:4222"


def operator_credentials() -> tuple[str, str] | None:
    """The operator's login: NATS_USER/NATS_PASSWORD or NATS_CREDENTIALS_FILE's `admin`, else the
    credentials `make run` wrote; None leaves it to the URL (`nats://admin:pw@host:port`)."""
    from shared.settings import Settings

    settings = Settings(service=ADMIN, database_url="sqlite://")  # the database is not used
    if not settings.nats_password and not settings.nats_credentials_file:
        local = local_nats_dir() / "credentials.json"
        if not local.exists():
            return None
        settings = Settings(service=ADMIN, database_url="sqlite://", nats_credentials_file=str(local))
    return settings.nats_credentials(ADMIN)


async def operator_connect(nats_url: str | None = None) -> Client:
    """A connection as the operator (`admin`), for the CLIs and tools."""
    import nats

    servers = [url.strip() for url in operator_url(nats_url).split(",") if url.strip()]
    login = operator_credentials()
    if login is None:
        return await nats.connect(servers)
    return await nats.connect(servers, user=login[0], password=login[1])


def load_credentials(path: Path) -> Credentials:
    raw = json.loads(path.read_text())
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError(f"{path} must be a JSON object of user -> password")
    return dict(raw)


def generate_credentials(path: Path) -> Credentials:
    """The credentials in `path`, with a random password for every user of the table that has
    none yet; written (0600) only when something was added, so a restart keeps the passwords."""
    credentials = load_credentials(path) if path.exists() else {}
    missing = [user for user in USERS if user not in credentials]
    if missing:
        credentials.update({user: secrets.token_urlsafe(24) for user in missing})
        write_private(path, json.dumps(credentials, indent=2) + "\n")
    return credentials


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, with no moment in which it is readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # an existing file keeps its mode on open
