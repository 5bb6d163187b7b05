"""A small in-process token bucket per client, for the public HSDS endpoints.

In process on purpose: the HSDS API is a read-only feed for a website and other directories;
a per-process limit is enough to stop one careless crawler, and needs no shared store. A
deployment with several replicas multiplies the limit by the replica count.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may pass, else the seconds until the next token."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 10_000:  # forget idle clients so memory stays bounded
                self._forget(now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf

    def _forget(self, now: float) -> None:
        full_after = self.burst / self.rate if self.rate > 0 else math.inf
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
