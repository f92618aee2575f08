"""The sandbox's notion of "now": real time by default, or a fixed instant that tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def as_utc(dt: datetime) -> datetime:
    """Aware UTC datetime; a naive value is taken to be UTC already (as ServiceTitan does)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class ClockAnchor:
    """What a clock needs to read the same in another process: a pinned instant, or an offset from real
    time (so a clock started at ST_MCP_CLOCK keeps running from where it was, not from its start)."""

    fixed: datetime | None
    offset: timedelta


class SandboxClock:
    """Wall clock for everything the tenant records (JWT iat/exp, createdOn, capacity's "past" windows).

    ``fixed=None`` follows real time; ``set`` pins it and ``advance`` moves it either way, so a test can
    jump 901 seconds to expire a token without sleeping.
    """

    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed: datetime | None = as_utc(fixed) if fixed is not None else None
        self._offset = timedelta(0)
        self._since: datetime | None = None  # with a rate: the real moment the clock read its start
        self._rate = 1.0

    @classmethod
    def starting_at(
        cls, start: datetime, *, since: datetime | None = None, rate: float = 1.0
    ) -> SandboxClock:
        """A clock that read ``start`` at the real moment ``since`` (default: now) and runs on from there,
        ``rate`` times as fast as real time (ST_MCP_CLOCK and ST_MCP_CLOCK_RATE for demos and tests)."""
        clock = cls()
        clock.run_from(start, since=since, rate=rate)
        return clock

    def run_from(self, start: datetime, *, since: datetime | None = None, rate: float = 1.0) -> None:
        self._fixed = None
        self._since = as_utc(since) if since is not None else datetime.now(UTC)
        self._rate = rate
        self._offset = as_utc(start) - self._since

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        real = datetime.now(UTC)
        if self._rate == 1.0 or self._since is None:
            return real + self._offset
        return self._since + self._offset + (real - self._since) * self._rate

    def set(self, dt: datetime) -> None:
        self._fixed = as_utc(dt)
        self._offset = timedelta(0)

    def advance(self, seconds: float) -> None:
        if self._fixed is not None:
            self._fixed += timedelta(seconds=seconds)
        else:
            self._offset += timedelta(seconds=seconds)

    def anchor(self) -> ClockAnchor:
        return ClockAnchor(self._fixed, self._offset)

    def restore(self, anchor: ClockAnchor) -> None:
        """Read as the anchored clock does (in place: the token issuer holds this object)."""
        self._fixed = as_utc(anchor.fixed) if anchor.fixed is not None else None
        self._offset = anchor.offset

    @property
    def is_fixed(self) -> bool:
        return self._fixed is not None

    def __repr__(self) -> str:
        mode = "fixed" if self.is_fixed else "real"
        return f"SandboxClock({mode}, now={self.now().isoformat()})"
