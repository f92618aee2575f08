"""Counting and timing every upstream request.

A tool call wants to know "how many ServiceTitan requests did I make, and how long did they take".
``UpstreamMeter.measure()`` opens a recording scope bound to the current task context (contextvars),
so concurrent tool calls each see only their own requests, and nested scopes all see the inner calls.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    method: str
    path: str
    status: int | None
    duration_ms: float
    started: float = 0.0  # the meter's clock (seconds) when it was sent, for round-trip counting


@dataclass(slots=True)
class UpstreamRecording:
    """The upstream calls made while one ``measure()`` scope was open."""

    calls: list[UpstreamCall] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def total_ms(self) -> float:
        return sum(call.duration_ms for call in self.calls)

    def count_path(self, fragment: str) -> int:
        return sum(1 for call in self.calls if fragment in call.path)

    @property
    def round_trips(self) -> int:
        """Sequential round trips: the longest chain of requests each sent after the last answered.

        Requests sent together (one task group) overlap and count once; what a caller waited for is
        this many upstream latencies, whatever the number of requests."""
        depth: list[tuple[float, int]] = []  # (answered at, chain length ending there)
        for call in sorted(self.calls, key=lambda c: c.started):
            ended = call.started + call.duration_ms / 1000
            before = max((n for done, n in depth if done <= call.started), default=0)
            depth.append((ended, before + 1))
        return max((n for _, n in depth), default=0)


_active: ContextVar[tuple[UpstreamRecording, ...]] = ContextVar("st_upstream_recordings", default=())


Observer = Callable[[UpstreamCall], None]


class UpstreamMeter:
    """Process-wide totals plus per-scope recordings of upstream requests, and observers that hear of
    every request (the Prometheus metrics; this package does not depend on them)."""

    def __init__(self) -> None:
        self.total_requests = 0
        self._observers: list[Observer] = []

    def add_observer(self, observer: Observer) -> None:
        if observer not in self._observers:  # a client reused across app contexts is observed once
            self._observers.append(observer)

    @contextlib.contextmanager
    def measure(self) -> Iterator[UpstreamRecording]:
        recording = UpstreamRecording()
        token = _active.set((*_active.get(), recording))
        try:
            yield recording
        finally:
            _active.reset(token)

    def record(self, call: UpstreamCall) -> None:
        self.total_requests += 1
        for recording in _active.get():
            recording.calls.append(call)
        for observer in self._observers:
            observer(call)

    @staticmethod
    def clock() -> float:
        return time.perf_counter()
