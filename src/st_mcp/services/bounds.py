"""Bounds on what a caller may pass, checked before any I/O: a clear sentence instead of an overflow,
an invalid URL or a database error deep down (issue 11). Errors quote at most a short prefix of a value."""

from __future__ import annotations

from datetime import UTC, datetime

from st_mcp.services.errors import UserInputError

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
QUOTE = 40  # characters of a bad value an error may repeat


def quoted(value: object, limit: int = QUOTE) -> str:
    """``'the value'`` — or its first ``limit`` characters and an ellipsis."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def moment(value: datetime | None, field: str) -> datetime | None:
    """A date-time within 1900–2100 (naive = UTC), or None."""
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware <= LATEST:
        raise UserInputError(
            f"'{field}' must be a date between 1900 and 2100, e.g. 2026-03-14T09:00:00-06:00."
        )
    return aware


def short(value: str, field: str, limit: int) -> str:
    """``value`` if it has at most ``limit`` characters; otherwise a one-line refusal quoting a prefix."""
    if len(value) > limit:
        raise UserInputError(
            f"'{field}' is {len(value)} characters long; at most {limit} are allowed ({quoted(value)})."
        )
    return value
