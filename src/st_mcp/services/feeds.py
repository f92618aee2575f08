"""Reading a ServiceTitan export feed from a kept place: the job-events watcher's feeds and the leads
poller's. ``from`` is the last answer's ``continueFrom``, or a date string for a reader's first read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from st_mcp.servicetitan.models.lifecycle import ExportPage

MAX_PAGES = 50  # per feed per pass; the rest comes next time


def feed_date(moment: datetime) -> str:
    """A custom date string that starts a feed at ``moment`` (whole seconds, rounded down: nothing lost)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def drain(
    read: Callable[[str | None], Awaitable[ExportPage[Any]]], start: str, *, max_pages: int = MAX_PAGES
) -> tuple[list[Any], str]:
    """The rows from ``start`` on, until the feed has no more (or ``max_pages``), and the place after them —
    for the caller to keep once it has dealt with the rows."""
    rows: list[Any] = []
    token = start
    for _ in range(max_pages):
        page = await read(token)
        rows.extend(page.data)
        token = page.continueFrom
        if not page.hasMore:
            break
    return rows, token
