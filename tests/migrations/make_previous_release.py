"""Make the previous release's databases, with its demo data, as SQL text:
tests/fixtures/previous-release/<database>.sql (and the development KEK that opens the
referrals' citizen data).

The previous release is commit 1a12c70, the last whose databases were made by `create_all`.
Its code is unpacked (`git archive`) into a scratch folder and run from there with this venv:
NATS and an SMTP sink, then every service as a process with DEMO=1 on its own SQLite file, until
the demo world has gone round (the catalogue's communities reach referrals and notifications,
referrals' events reach notifications and analytics) and the row counts stop changing. The
web's demo has no rows of its own, so a logged-in session is written with its own store. The
files are dumped with sqlite3's iterdump; the dumps are the fixtures test_previous_release.py
loads.

Run from the repository: `.venv/bin/python -m tests.migrations.make_previous_release`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from shared.natsserver import NatsServer, free_port

RELEASE = "1a12c70"
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "previous-release"
SERVICES = ("catalogue", "referrals", "notifications", "analytics", "web")
# The web user whose session the previous release wrote: the test logs in with this cookie.
SESSION_ID = "previous-release-session"
SESSION_ACTOR = "guide-anne"


def session_hash(session_id: str = SESSION_ID) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def unpack(release: str, into: Path) -> None:
    archive = subprocess.run(["git", "archive", release], cwd=REPO, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"a service on port {port} did not become ready")


@contextlib.contextmanager
def previous_release(tree: Path, data: Path) -> Iterator[None]:
    """The previous release running on `data`, stopped (SIGTERM) when the block ends."""
    nats = NatsServer(data / "nats", log_file=data / "nats.log").start()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    ports = {name: free_port() for name in SERVICES}
    urls = {f"{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in SERVICES:
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(data),
                "SERVICE": name,
                "PORT": str(ports[name]),
                "DATABASE_URL": f"sqlite:///{data / name}.db",
                "NATS_URL": nats.url,
                "DEMO": "1",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp.port),
                "QUIET_START": "00:00",
                "QUIET_END": "00:00",
                "WEB_PUBLIC_URL": urls["WEB_URL"],
                "REFERRALS_PUBLIC_URL": urls["REFERRALS_URL"],
                **{k: v for k, v in urls.items() if k != "WEB_URL"},
            }
            log = (data / f"{name}.log").open("ab")
            processes.append(
                subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=tree, env=env, stdout=log, stderr=log)
            )
        deadline = time.monotonic() + 120
        for port in ports.values():
            wait_ready(port, deadline)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        nats.stop()


def settle(data: Path, quiet_seconds: float = 8.0, limit_seconds: float = 150.0) -> dict[str, dict[str, int]]:
    """Wait until the demo has gone round: referrals made, nudges sent, metrics projected, and
    no row count changing for `quiet_seconds`."""
    started = last_change = time.monotonic()
    seen: dict[str, dict[str, int]] = {}
    while time.monotonic() - started < limit_seconds:
        now = {name: counts(data / f"{name}.db") for name in SERVICES}
        if now != seen:
            seen, last_change = now, time.monotonic()
        done = (
            seen["referrals"].get("referral", 0) > 0
            and seen["notifications"].get("delivery", 0) > 0
            and seen["analytics"].get("an_referral", 0) > 0
        )
        if done and time.monotonic() - last_change >= quiet_seconds:
            return seen
        time.sleep(1)
    raise RuntimeError(f"the demo did not settle within {limit_seconds} s: {seen}")


WEB_SESSION = """
from datetime import UTC, datetime
from shared.db import Database
from services.web.store import Base, WebSession
db = Database({url!r})
db.create_schema(Base.metadata)
now = datetime.now(UTC)
with db.transaction() as session:
    session.add(WebSession(id_hash={hash!r}, actor_id={actor!r}, role="guide", name="Anne Guide",
                           communities=[], csrf_token="previous-release-csrf", created_at=now, last_seen_at=now))
"""


def dump(path: Path, into: Path, keep_sent: int = 10) -> None:
    """The database as SQL text. Of the outbox's sent rows (history the relay deletes after a
    week) the newest `keep_sent` are kept: the payloads were most of the text."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'outbox'").fetchone():
            sent = "SELECT position FROM outbox WHERE sent_at IS NOT NULL ORDER BY position DESC LIMIT -1 OFFSET ?"
            conn.execute(f"DELETE FROM outbox WHERE position IN ({sent})", (keep_sent,))
            conn.commit()
        into.write_text("\n".join(conn.iterdump()) + "\n")


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vejviser-previous-") as scratch:
        tree, data = Path(scratch) / "tree", Path(scratch) / "data"
        tree.mkdir()
        data.mkdir()
        unpack(RELEASE, tree)
        with previous_release(tree, data):
            settled = settle(data)
        web = WEB_SESSION.format(url=f"sqlite:///{data / 'web'}.db", hash=session_hash(), actor=SESSION_ACTOR)
        subprocess.run([sys.executable, "-c", web], cwd=tree, check=True, env={"PATH": os.environ.get("PATH", "")})
        for name in SERVICES:
            dump(data / f"{name}.db", FIXTURES / f"{name}.sql")
        dump(data / "referrals-keys.db", FIXTURES / "referrals_keys.sql")
        shutil.copy(data / "referrals-kek.json", FIXTURES / "referrals-kek.json")
    for name, tables in settled.items():
        print(name, {t: n for t, n in tables.items() if n})


if __name__ == "__main__":
    main()
