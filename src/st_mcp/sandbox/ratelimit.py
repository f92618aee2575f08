"""60 requests per second per (app key, tenant): a sliding one-second log of accepted requests.

Runs on monotonic real time rather than the sandbox clock, so freezing the clock never freezes the
limiter. ``now`` is swappable so a test can pin time and count exactly.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_seconds: float = 1.0, now: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.now = now
        self._hits: dict[Hashable, deque[float]] = {}

    def acquire(self, key: Hashable) -> int | None:
        """Record one request; return None if allowed, else whole seconds to wait (for Retry-After)."""
        now = self.now()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()
