"""Typed access to query-string parameters; a value that does not parse is a 400 for that parameter,
as ASP.NET model binding reports it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from starlette.datastructures import QueryParams

from .problems import bad_request
from .times import parse_datetime

MAX_IDS = 50
# ASP.NET binds ids as long and paging as int: a number outside the type is "not valid", like text.
INT_BITS = {"page": 32, "pageSize": 32}


def _invalid(name: str, raw: str) -> Exception:
    return bad_request(name, f"The value '{raw}' is not valid.")


def _bounded_int(name: str, text: str, raw: str, bits: int) -> int:
    """An integer as .NET parses Int32/Int64: optional sign and digits, within the type's range."""
    stripped = text.strip()
    digits = stripped[1:] if stripped[:1] in "+-" else stripped
    if not digits.isascii() or not digits.isdigit():
        raise _invalid(name, raw)
    value = int(stripped)
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise _invalid(name, raw)
    return value


class Query:
    def __init__(self, params: QueryParams) -> None:
        self.params = params
        self.read: set[str] = set()  # every parameter a handler looked at (tests prove none is ignored)

    def raw(self, name: str) -> str | None:
        self.read.add(name)
        value = self.params.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def str(self, name: str) -> str | None:
        return self.raw(name)

    def int(self, name: str) -> int | None:
        raw = self.raw(name)
        if raw is None:
            return None
        return _bounded_int(name, raw, raw, INT_BITS.get(name, 64))

    def float(self, name: str) -> float | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError:
            raise _invalid(name, raw) from None

    def required_int(self, name: str) -> int:
        value = self.int(name)
        if value is None:
            raise bad_request(name, f"The {name} field is required.")
        return value

    def bool(self, name: str) -> bool | None:
        raw = self.raw(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise _invalid(name, raw)

    def datetime(self, name: str) -> datetime | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return parse_datetime(raw)
        except ValueError:
            raise _invalid(name, raw) from None

    def enum(self, name: str, values: Iterable[str]) -> str | None:
        """Case-insensitive, answered in the canonical spelling (ASP.NET enum binding)."""
        raw = self.raw(name)
        if raw is None:
            return None
        for value in values:
            if value.lower() == raw.lower():
                return value
        raise _invalid(name, raw)

    def enum_list(self, name: str, values: Iterable[str]) -> set[str] | None:
        """Repeated (``statuses=A&statuses=B``) or comma-separated enum values."""
        allowed = {v.lower(): v for v in values}
        self.read.add(name)
        items = [part.strip() for raw in self.params.getlist(name) for part in raw.split(",") if part.strip()]
        if not items:
            return None
        try:
            return {allowed[item.lower()] for item in items}
        except KeyError as exc:
            raise _invalid(name, str(exc.args[0])) from None

    def int_values(self, name: str) -> set[int] | None:
        """An array parameter of int64s: repeated (``x=1&x=2``, ASP.NET's binding) or comma-separated."""
        self.read.add(name)
        parts = [p.strip() for raw in self.params.getlist(name) for p in raw.split(",") if p.strip()]
        if not parts:
            return None
        return {_bounded_int(name, p, p, 64) for p in parts}

    def int_list(self, name: str, max_items: int | None = MAX_IDS) -> set[int] | None:
        """A comma-separated id list (``ids=1,2,3``), at most ``max_items`` of them."""
        raw = self.raw(name)
        if raw is None:
            return None
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        values = [_bounded_int(name, p, raw, 64) for p in parts]
        if max_items is not None and len(values) > max_items:
            raise bad_request(name, f"The maximum number of items is {max_items}, got {len(values)}.")
        return set(values)
