"""A fast yes/no pre-check for the JSON Schema subset the ServiceTitan documents use.

`jsonschema` walks every node through `descend()`/`evolve()` and costs ~0.3 ms per customer record, so a
50-item page takes ~14 ms. The contract checker therefore compiles each schema once into plain closures that
only answer "valid or not", and asks `jsonschema` (the authority) for the detailed errors only when this
check says "invalid". Any keyword this module does not know raises `Unsupported`, and the caller then
uses `jsonschema` alone, so an unknown construct can make validation slower but never laxer.
`test_contract_checker.py` cross-checks the two on valid and mutated instances.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import FormatChecker

Check = Callable[[Any], bool]

# Keywords that never affect validity.
_ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "example",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "externalDocs",
        "xml",
    }
)
_SUPPORTED = frozenset(
    {
        "type",
        "format",
        "$ref",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "oneOf",
        "anyOf",
        "allOf",
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "maxProperties",
        "minProperties",
        "minimum",
        "maximum",
        "pattern",
    }
)


class Unsupported(Exception):
    """The schema uses a keyword the fast path does not implement."""


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


# Same semantics as jsonschema's Draft 2020-12 type checker (1.0 is an integer, True is not).
_TYPE_CHECKS: dict[str, Check] = {
    "null": lambda x: x is None,
    "boolean": lambda x: isinstance(x, bool),
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "number": _is_number,
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())
    ),
}


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda x: a(x) and b(x)
    return lambda x: all(c(x) for c in checks)


class SchemaCompiler:
    """Compiles schemas of one OpenAPI document (local `#/...` refs only) into `Check` closures."""

    def __init__(self, document: Mapping[str, Any], format_checker: FormatChecker) -> None:
        self._document = document
        self._formats = format_checker
        self._memo: dict[int, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema is not an object: {schema!r}")
        key = id(schema)
        if key in self._memo:
            return self._memo[key]
        # A forwarding stub lets recursive schemas refer to themselves while being built.
        cell: list[Check] = []
        self._memo[key] = lambda x: cell[0](x)
        try:
            check = self._build(schema)
        except Unsupported:
            del self._memo[key]
            raise
        cell.append(check)
        self._memo[key] = check
        return check

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise Unsupported(f"non-local $ref {ref}")
        node: Any = self._document
        for raw in ref[2:].split("/"):
            segment = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(segment)] if isinstance(node, list) else node[segment]
        return node

    def _build(self, schema: dict[str, Any]) -> Check:
        unknown = [
            k for k in schema if k not in _SUPPORTED and k not in _ANNOTATIONS and not k.startswith("x-")
        ]
        if unknown:
            raise Unsupported(f"keywords {unknown}")
        checks: list[Check] = []
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        if "const" in schema:
            checks.append(self._enum([schema["const"]]))
        if "format" in schema:
            checks.append(self._format(schema["format"]))
        checks.extend(self._string_checks(schema))
        checks.extend(self._number_checks(schema))
        checks.extend(self._size_checks(schema))
        if "items" in schema:
            checks.append(self._items(schema["items"]))
        if {"properties", "required", "additionalProperties"} & schema.keys():
            checks.append(self._object(schema))
        checks.extend(self._combinators(schema))
        return self._ordered(schema, checks)

    def _ordered(self, schema: dict[str, Any], checks: list[Check]) -> Check:
        if "$ref" in schema:
            # compile() hands out a forwarding stub for a schema still being built, so recursion ends.
            checks.insert(0, self.compile(self._resolve(schema["$ref"])))
        return _all_of(checks)

    def _type(self, types: Any) -> Check:
        names = [types] if isinstance(types, str) else list(types)
        try:
            checks = [_TYPE_CHECKS[n] for n in names]
        except KeyError as exc:
            raise Unsupported(f"type {types!r}") from exc
        if len(checks) == 1:
            return checks[0]
        return lambda x: any(c(x) for c in checks)

    def _enum(self, values: list[Any]) -> Check:
        # jsonschema's equality: True is not 1, but 1 == 1.0; containers are left to jsonschema.
        if any(isinstance(v, dict | list) for v in values):
            raise Unsupported("enum of containers")
        strings = frozenset(v for v in values if isinstance(v, str))
        bools = {v for v in values if isinstance(v, bool)}
        numbers = [v for v in values if _is_number(v)]
        allow_null = None in values

        def check(x: Any) -> bool:
            if isinstance(x, str):
                return x in strings
            if isinstance(x, bool):
                return x in bools
            if x is None:
                return allow_null
            return _is_number(x) and any(x == n for n in numbers)

        return check

    def _format(self, name: str) -> Check:
        entry = self._formats.checkers.get(name)
        if entry is None:
            return _always  # unknown formats are annotations, as in jsonschema
        func, raises = entry

        def check(x: Any) -> bool:
            try:
                return bool(func(x))
            except raises:
                return False

        return check

    def _string_checks(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "maxLength" in schema:
            n = schema["maxLength"]
            checks.append(lambda x: not isinstance(x, str) or len(x) <= n)
        if "minLength" in schema:
            m = schema["minLength"]
            checks.append(lambda x: not isinstance(x, str) or len(x) >= m)
        if "pattern" in schema:
            rx = re.compile(schema["pattern"])
            checks.append(lambda x: not isinstance(x, str) or rx.search(x) is not None)
        return checks

    def _number_checks(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "minimum" in schema:
            lo = schema["minimum"]
            checks.append(lambda x: not _is_number(x) or x >= lo)
        if "maximum" in schema:
            hi = schema["maximum"]
            checks.append(lambda x: not _is_number(x) or x <= hi)
        return checks

    def _size_checks(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        for key, kind, upper in (
            ("maxItems", list, True),
            ("minItems", list, False),
            ("maxProperties", dict, True),
            ("minProperties", dict, False),
        ):
            if key in schema:
                n = schema[key]
                if upper:
                    checks.append(lambda x, k=kind, n=n: not isinstance(x, k) or len(x) <= n)
                else:
                    checks.append(lambda x, k=kind, n=n: not isinstance(x, k) or len(x) >= n)
        return checks

    def _items(self, items: Any) -> Check:
        if not isinstance(items, dict | bool):
            raise Unsupported("tuple-form items")
        item = self.compile(items)
        return lambda x: not isinstance(x, list) or all(item(i) for i in x)

    def _object(self, schema: dict[str, Any]) -> Check:
        props = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        extra_schema = schema.get("additionalProperties", True)
        closed = extra_schema is False
        extra = None if extra_schema is True or closed else self.compile(extra_schema)

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for name in required:
                if name not in x:
                    return False
            for name, value in x.items():
                prop = props.get(name)
                if prop is not None:
                    if not prop(value):
                        return False
                elif closed or (extra is not None and not extra(value)):
                    return False
            return True

        return check

    def _combinators(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "allOf" in schema:
            checks.append(_all_of([self.compile(s) for s in schema["allOf"]]))
        if "anyOf" in schema:
            any_of = [self.compile(s) for s in schema["anyOf"]]
            checks.append(lambda x: any(c(x) for c in any_of))
        if "oneOf" in schema:
            one_of = [self.compile(s) for s in schema["oneOf"]]
            checks.append(lambda x: sum(1 for c in one_of if c(x)) == 1)
        return checks
