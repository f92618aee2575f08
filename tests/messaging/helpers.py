"""Shared helpers for the messaging tests: a clock a test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


class ManualClock:
    """``clock()`` returns ``now``; ``advance`` moves it, so timestamps in assertions are exact."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
