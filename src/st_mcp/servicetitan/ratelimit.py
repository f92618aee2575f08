"""Client-side pacing that never trips ServiceTitan's limit: 60 requests in any rolling second.

ServiceTitan (and the sandbox, ``sandbox/ratelimit.py``) counts the requests that *arrived* in the last
second. A request arrives somewhere between when we sent it and when its answer came back, so this
pacer places each request in the window at the latest moment it can have arrived: its answer's time,
or "not yet" while it is in flight. The next request beyond the limit waits until the oldest of the
last ``limit`` requests has answered and a full window has passed since — so however the network
reorders arrivals, no rolling second at ServiceTitan ever holds more than ``limit`` of ours.

A leaky bucket (the ``aiolimiter`` used before) lets a 60-request burst through and then 60 more in the
next second, which a sliding window refuses: those 429s reached the agent and cost it a second each.

``hold`` pauses every request after a 429 (another process on the same app key and tenant used the
window): one ``Retry-After`` is honoured by all callers, not discovered again by each of them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio


class _Sent:
    __slots__ = ("answered", "at")

    def __init__(self) -> None:
        self.at = math.inf  # the latest moment it can have arrived; unknown while in flight
        self.answered = anyio.Event()

    def done(self, now: float) -> None:
        self.at = now
        self.answered.set()


class SlidingWindowPacer:
    def __init__(
        self,
        limit: int,
        window_seconds: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._recent: deque[_Sent] = deque(maxlen=limit)  # the last `limit` requests admitted
        self._turn = anyio.Lock()  # one waiter at a time, in arrival order (anyio's lock is fair)
        self._resume_at = 0.0
        self.waited_seconds = 0.0  # total pacing delay, for the bench and the metrics

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one place in the window for the duration of one request (its answer included)."""
        sent = await self._admit()
        try:
            yield
        finally:
            sent.done(self._clock())

    def hold(self, seconds: float) -> None:
        """ServiceTitan said 429 with ``Retry-After``: admit nothing more until it has passed."""
        self._resume_at = max(self._resume_at, self._clock() + max(0.0, seconds))

    async def _admit(self) -> _Sent:
        async with self._turn:
            started = self._clock()
            held = self._resume_at
            if started < held:
                await self._sleep(held - started)
            while len(self._recent) == self.limit:
                oldest = self._recent[0]
                if oldest.at == math.inf:
                    await oldest.answered.wait()
                    continue
                wait = oldest.at + self.window - self._clock()
                if wait <= 0:
                    break
                await self._sleep(wait)
                if self._clock() < oldest.at + self.window:
                    continue  # woke early (timer resolution): look again
                break
            sent = _Sent()
            self._recent.append(sent)  # maxlen drops the oldest, which has left the window
            self.waited_seconds += self._clock() - started
            return sent
