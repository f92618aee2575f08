"""List endpoints: the common query parameters (paging, ids, active, created/modified ranges, sort)
and the ``{page, pageSize, hasMore, totalCount, data}`` envelope — one helper every list route uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .problems import bad_request
from .query import Query

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 5000
ACTIVE_VALUES = ("True", "Any", "False")
_SORT = re.compile(r"^([+\- ]?)\s*(\w+)$")


class Record(Protocol):
    id: int


T = TypeVar("T", bound=Record)
Json = dict[str, Any]

STANDARD_SORT: Mapping[str, str] = {"Id": "id", "CreatedOn": "created_on", "ModifiedOn": "modified_on"}


@dataclass(frozen=True)
class ListOptions:
    """Which common parameters an operation takes (per its OpenAPI parameter list)."""

    sort_fields: Mapping[str, str] = field(default_factory=lambda: STANDARD_SORT)  # API name → attribute
    active_default: str | None = "True"  # None: the operation has no ``active`` filter
    ids: bool = True
    created: bool = True
    modified: bool = True
    order_by: bool = False  # older operations sort with orderBy + orderByDirection instead of sort


STANDARD = ListOptions()
PLAIN = ListOptions(sort_fields={}, active_default=None, ids=False, created=False, modified=False)


def envelope(rows: Sequence[Any], query: Query, serialize: Callable[[Any], Json]) -> Json:
    page = query.int("page")
    page = 1 if page is None else page
    if page < 1:
        raise bad_request("page", "The page must be greater than or equal to 1.")
    page_size = query.int("pageSize")
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise bad_request("pageSize", f"The pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    include_total = query.bool("includeTotal") or False
    start = (page - 1) * page_size
    chunk = rows[start : start + page_size]
    return {
        "page": page,
        "pageSize": page_size,
        "hasMore": start + page_size < len(rows),
        "totalCount": len(rows) if include_total else None,
        "data": [serialize(row) for row in chunk],
    }


def paged(
    query: Query,
    rows: Iterable[T],
    serialize: Callable[[T], Json],
    options: ListOptions = STANDARD,
) -> Json:
    """Apply the common filters and sort, then page. Endpoint-specific filters are applied before."""
    items = list(rows)
    if options.ids:
        ids = query.int_list("ids")
        if ids is not None:
            items = [r for r in items if r.id in ids]
    if options.active_default is not None:
        active = query.enum("active", ACTIVE_VALUES) or options.active_default
        if active != "Any":
            wanted = active == "True"
            items = [r for r in items if getattr(r, "active", True) == wanted]
    for param, attribute, before in _ranges(options):
        bound = query.datetime(param)
        if bound is not None:
            items = [r for r in items if (getattr(r, attribute) < bound) == before]
    sort = query.raw("sort")
    if options.order_by:
        # "desc"/"descending" reverse orderBy; without orderBy the default order stands.
        descending = (query.raw("orderByDirection") or "").lower() in ("desc", "descending")
        if query.raw("orderBy"):
            sort = ("-" if descending else "+") + str(query.raw("orderBy"))
    items = _sorted(items, sort, options.sort_fields)
    return envelope(items, query, serialize)


def _ranges(options: ListOptions) -> list[tuple[str, str, bool]]:
    """(parameter, attribute, is-"before") — "before" is exclusive, "OnOrAfter" inclusive."""
    ranges = []
    if options.created:
        ranges += [("createdBefore", "created_on", True), ("createdOnOrAfter", "created_on", False)]
    if options.modified:
        ranges += [("modifiedBefore", "modified_on", True), ("modifiedOnOrAfter", "modified_on", False)]
    return ranges


def _sorted(items: list[T], sort: str | None, fields: Mapping[str, str]) -> list[T]:
    items = sorted(items, key=lambda r: r.id)
    if sort is None or not fields:
        return items
    # "+Id" arrives as " Id" when the client does not percent-encode the plus sign.
    match = _SORT.match(sort)
    by_name = {name.lower(): attr for name, attr in fields.items()}
    if not match or match.group(2).lower() not in by_name:
        available = ", ".join(fields)
        raise bad_request(
            "sort", f"Sorting by '{sort.strip()}' is not supported. Available fields are: {available}."
        )
    attribute = by_name[match.group(2).lower()]
    return sorted(items, key=lambda r: getattr(r, attribute), reverse=match.group(1) == "-")
