"""Endpoint-specific list filters as predicates built from query parameters (None = not asked for),
so each list route reads as "these filters, then the common paging" (paging.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .query import Query

Predicate = Callable[[Any], bool]


def apply(rows: Iterable[Any], predicates: Iterable[Predicate | None]) -> list[Any]:
    result = list(rows)
    for predicate in predicates:
        if predicate is not None:
            result = [row for row in result if predicate(row)]
    return result


def contains(query: Query, param: str, get: Callable[[Any], str | None]) -> Predicate | None:
    """Case-insensitive "contains", as ServiceTitan's name filters do."""
    wanted = query.str(param)
    if wanted is None:
        return None
    return lambda row: wanted.casefold() in (get(row) or "").casefold()


def equal_ints(query: Query, params: Mapping[str, str]) -> list[Predicate | None]:
    """``param=<int>`` must equal ``row.<attribute>`` — one predicate per parameter given."""
    predicates: list[Predicate | None] = []
    for param, attribute in params.items():
        value = query.int(param)
        if value is not None:
            predicates.append(lambda row, a=attribute, v=value: getattr(row, a) == v)
    return predicates


def in_id_lists(query: Query, params: Mapping[str, str]) -> list[Predicate | None]:
    """``param=1,2,3`` must contain ``row.<attribute>``."""
    predicates: list[Predicate | None] = []
    for param, attribute in params.items():
        values = query.int_list(param, max_items=None)
        if values is not None:
            predicates.append(lambda row, a=attribute, v=values: getattr(row, a) in v)
    return predicates


def time_range(query: Query, on_or_after: str, before: str, attribute: str) -> list[Predicate | None]:
    """``…OnOrAfter`` is inclusive, ``…Before`` exclusive; rows without the time never match."""
    low, high = query.datetime(on_or_after), query.datetime(before)

    def value(row: Any) -> Any:
        return getattr(row, attribute)

    return [
        (lambda row: value(row) is not None and value(row) >= low) if low else None,
        (lambda row: value(row) is not None and value(row) < high) if high else None,
    ]


def enum_equals(query: Query, param: str, values: Iterable[str], attribute: str) -> Predicate | None:
    wanted = query.enum(param, values)
    return (lambda row: getattr(row, attribute) == wanted) if wanted else None
