"""Typed access to query-string parameters; a value that does not parse is a 400 for that parameter,
as ASP.NET model binding reports it (unknown parameters are ignored, as there)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from starlette.datastructures import QueryParams

from .problems import bad_request
from .times import parse_datetime

MAX_IDS = 50


def _invalid(name: str, raw: str) -> Exception:
    return bad_request(name, f"The value '{raw}' is not valid.")


class Query:
    def __init__(self, params: QueryParams) -> None:
        self.params = params

    def raw(self, name: str) -> str | None:
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
        try:
            return int(raw)
        except ValueError:
            raise _invalid(name, raw) from None

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
        items = [part.strip() for raw in self.params.getlist(name) for part in raw.split(",") if part.strip()]
        if not items:
            return None
        try:
            return {allowed[item.lower()] for item in items}
        except KeyError as exc:
            raise _invalid(name, str(exc.args[0])) from None

    def int_list(self, name: str, max_items: int | None = MAX_IDS) -> set[int] | None:
        """A comma-separated id list (``ids=1,2,3``), at most ``max_items`` of them."""
        raw = self.raw(name)
        if raw is None:
            return None
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise _invalid(name, raw) from None
        if max_items is not None and len(values) > max_items:
            raise bad_request(name, f"The maximum number of items is {max_items}, got {len(values)}.")
        return set(values)
