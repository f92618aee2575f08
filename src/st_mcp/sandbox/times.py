"""Datetime wire format: ISO-8601 UTC with a ``Z``, as ServiceTitan writes it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .clock import as_utc
from .config import SANDBOX_TIMEZONE

BUSINESS_TZ = ZoneInfo(SANDBOX_TIMEZONE)


def iso(dt: datetime) -> str:
    """``2026-03-10T15:00:00Z`` (microseconds only when present)."""
    dt = as_utc(dt)
    # Not strftime("%Y"): it writes year 320 as "320"; .NET always writes four digits ("0320").
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def iso_or_none(dt: datetime | None) -> str | None:
    return iso(dt) if dt is not None else None


def local_wall_as_z(dt: datetime) -> str:
    """Business-local wall time written with a misleading ``Z`` (capacity's start/end quirk)."""
    local = as_utc(dt).astimezone(BUSINESS_TZ).replace(tzinfo=UTC)
    return iso(local)


def parse_datetime(text: str) -> datetime:
    """Parse a query/body datetime; naive values and plain dates are UTC. Raises ValueError."""
    value = text.strip()
    if not value:
        raise ValueError("empty")
    try:
        return as_utc(datetime.fromisoformat(value))
    except OverflowError:  # "0001-01-01T00:00:00+01:00" is before DateTime.MinValue in UTC, as in .NET
        raise ValueError("out of range") from None
