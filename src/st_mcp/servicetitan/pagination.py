"""Walking ServiceTitan's paged lists (``{page, pageSize, hasMore, data}``) without loading them all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from st_mcp.servicetitan.models.common import Page

T = TypeVar("T")

# ServiceTitan's documented maximum page size is 5000; 500 keeps single responses reasonable.
DEFAULT_ITER_PAGE_SIZE = 500


async def iterate_pages(
    fetch_page: Callable[[int, int], Awaitable[Page[T]]],
    *,
    page_size: int = DEFAULT_ITER_PAGE_SIZE,
    limit: int | None = None,
) -> AsyncIterator[T]:
    """Yield items page after page until ``hasMore`` is false (or ``limit`` items were yielded)."""
    page_number = 1
    yielded = 0
    while True:
        page = await fetch_page(page_number, page_size)
        for item in page.data:
            yield item
            yielded += 1
            if limit is not None and yielded >= limit:
                return
        if not page.hasMore or not page.data:
            return
        page_number += 1
