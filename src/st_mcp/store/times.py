"""Times in the store: kept in UTC, handed back aware (SQLite returns them naive)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def as_utc(value: datetime) -> datetime:
    """Times are stored (and compared, on SQLite as text) in UTC: convert before comparing.

    A naive time is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware(value: Any) -> Any:
    # SQLite hands datetimes back naive; everything stored is UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
