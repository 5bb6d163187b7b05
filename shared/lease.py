"""One active consumer of a durable among a service's replicas.

Replicas of a service share its durable consumers. Sharing a durable's batches would let one
replica apply a referral's later event before another has committed the earlier one, while
the rules rely on a stream's order (docs/architecture.md, "Order"). So a consumer fetches
only while it holds its durable's lease, and the other replicas wait as standbys:
- PostgreSQL: a session advisory lock, on a connection of the lease's own (a pooled
  connection would take the lock back to the pool with it);
- SQLite: an exclusive `flock` on a file beside the database (`<file>-<durable>.lease`);
- an in-memory SQLite database has one process: the lease is always held.

A lease ends with its holder: a replica that dies, or whose connection to PostgreSQL drops
(the server gives up on a silent one within about 25 s), lets a standby take over at its
next try. The holder asks again before each fetch (one round
trip on PostgreSQL), so a replica that lost its connection stops fetching.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger("vejviser.lease")


class Lease(Protocol):
    def hold(self) -> bool:
        """Take the lease when it is free; True while this process holds it. Blocking I/O."""
        ...

    def release(self) -> None: ...


class AlwaysHeld:
    def hold(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileLease:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def hold(self) -> bool:
        if self._fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file ends its lock
            self._fd = None


class AdvisoryLease:
    def __init__(self, conninfo: str, name: str) -> None:
        self.conninfo = conninfo
        self.name = name
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._held = False

    def hold(self) -> bool:
        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                # The server's side of the keepalives: a holder cut off from it (a network
                # split, a frozen host) loses the lock within ~25 s, not the kernel's 2 hours.
                self._conn.execute(
                    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3"
                )
            if self._held:
                self._conn.execute("SELECT 1")  # still connected: the lock is still ours
                return True
            row = self._conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.name,)).fetchone()
            self._held = bool(row and row[0])
            return self._held
        except psycopg.Error as exc:  # the server or the connection is gone: so is the lock
            log.warning("lease %s lost: %s", self.name, type(exc).__name__)
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                if self._held:
                    # Said, not left to the close: the server ends a closed session a moment
                    # later, and a standby asking meanwhile would still find the lock taken.
                    self._conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (self.name,))
                self._conn.close()  # the session's advisory locks end with it anyway
        self._conn, self._held = None, False


def lease_for(database_url: str, name: str) -> Lease:
    """The lease called `name` among the processes sharing the database at `database_url`."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return AdvisoryLease(conninfo, f"vejviser-consumer:{name}")
    if url.database and url.database != ":memory:":
        return FileLease(Path(f"{url.database}-{name}.lease"))
    return AlwaysHeld()
