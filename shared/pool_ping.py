"""A pooled PostgreSQL connection is pinged before use only after it has been idle a while.

SQLAlchemy's `pool_pre_ping` pings at every checkout: one more round trip for every unit of
work. A consumer working through a back-log checks its connection out again a millisecond
after it gave it back. The round trip is 0.1 ms on a quiet minute of this two-core machine,
but with other work beside it waits for the server process to be scheduled: with the test
suite running, the pings were 5 % of the notifications benchmark's consume path (py-spy,
3 December 2026), about 2 ms each.

A connection that was in use a moment ago is alive unless the server went away within that
moment. Then the unit of work fails with a disconnect error, SQLAlchemy discards every pooled
connection made before it (`Pool._invalidate`), and the next unit of work connects afresh: a
consumer's batch is redelivered, a request answers 5xx once. A connection idle for longer
than `IDLE_SECONDS` (a restart, a failover, an idle timeout on the server or a firewall) is
pinged as before and, if dead, replaced before anyone uses it.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

IDLE_SECONDS = 1.0
RETURNED = "vejviser.returned"  # ConnectionPoolEntry.info: when the connection was last given back


def ping_when_idle(engine: Engine, idle_seconds: float | None = None) -> None:
    """Ping `engine`'s pooled connections at checkout when idle for `idle_seconds` (by default
    `IDLE_SECONDS`) or more."""
    idle_seconds = IDLE_SECONDS if idle_seconds is None else idle_seconds

    def returned(_dbapi_connection: Any, entry: ConnectionPoolEntry) -> None:
        entry.info[RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        since = entry.info.get(RETURNED)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just made (its connect was the test), or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool replaces this connection and every other made before it: one found dead
            # says the server went away, and those in use a moment ago are not pinged.
            raise InvalidatePoolError(f"a pooled connection idle for {idle_seconds}s or more was dead") from exc

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)
