"""Checks HTTP exchanges against ServiceTitan's official OpenAPI documents.

The documents live outside the repository (`<repo>/../shared/servicetitan-openapi`, or `$ST_OPENAPI_DIR`)
and are never copied into it. A request URL such as `/jpm/v2/tenant/4417001/jobs/55/cancel` is mapped to
its module document by the `servers[0].url` path prefix, then to a path template (literal segments win over
`{param}` segments) and an operation. Operations missing from a module's current document are looked up in
the older copies in sub-folders (`mar2026/`).

Schemas are validated with `jsonschema` (Draft 2020-12, a `referencing` registry over each whole document so
`#/components/schemas/...` resolves). A compiled pre-check (`fastcheck.py`) answers "valid" for the common
case cheaply; `jsonschema` produces the messages whenever it says "invalid".
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .fastcheck import Check, SchemaCompiler, Unsupported

__all__ = [
    "FORMAT_CHECKER",
    "OPENAPI_DIR_ENV",
    "ContractRecordingTransport",
    "ContractViolation",
    "Exchange",
    "OpenAPIDocument",
    "Operation",
    "SchemaValidator",
    "ServiceTitanContract",
    "check_token_request",
    "check_token_response",
    "default_openapi_dir",
    "is_token_request",
]

OPENAPI_DIR_ENV = "ST_OPENAPI_DIR"
TOKEN_PATH_SUFFIX = "/connect/token"
# Any operation may answer these (auth, scopes, rate limit) although few documents list them.
ALWAYS_ALLOWED_STATUSES = frozenset({401, 403, 429})
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_openapi_dir() -> Path:
    """`$ST_OPENAPI_DIR`, else `<repo root>/../shared/servicetitan-openapi`."""
    configured = os.environ.get(OPENAPI_DIR_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return (_REPO_ROOT.parent / "shared" / "servicetitan-openapi").resolve()


# --------------------------------------------------------------------------------------------- violations


class ContractViolation(AssertionError):
    """An HTTP request or response that does not match the ServiceTitan OpenAPI contract."""

    def __init__(
        self,
        problems: Sequence[str],
        *,
        method: str,
        path: str,
        operation_id: str | None = None,
        template: str | None = None,
        phase: str = "request",
    ) -> None:
        self.problems = list(problems)
        self.method = method
        self.path = path
        self.operation_id = operation_id
        self.template = template
        self.phase = phase
        super().__init__(self._render())

    def _render(self) -> str:
        name = self.operation_id or "unknown operation"
        where = f"{self.method} {self.template or self.path}"
        if self.template and self.template != self.path:
            where += f" (called as {self.path})"
        lines = [f"{name} — {where}: {self.phase} violates the ServiceTitan OpenAPI contract:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class _Report:
    method: str
    path: str
    operation_id: str | None = None
    template: str | None = None
    problems: list[str] = field(default_factory=list)

    def violation(self, phase: str) -> ContractViolation | None:
        if not self.problems:
            return None
        return ContractViolation(
            self.problems,
            method=self.method,
            path=self.path,
            operation_id=self.operation_id,
            template=self.template,
            phase=phase,
        )


# ---------------------------------------------------------------------------------------------- formats

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _build_format_checker() -> FormatChecker:
    """The formats with a checkable meaning; `decimal`, `html`, `phone`… stay annotations."""
    checker = FormatChecker(formats=())

    def int_range(bits: int) -> Any:
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return lambda x: not isinstance(x, int) or isinstance(x, bool) or lo <= x <= hi

    checker.checks("int32")(int_range(32))
    checker.checks("int64")(int_range(64))

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(x: object) -> bool:
        # RFC 3339 requires the offset; .NET's 7 fractional digits are fine.
        if not isinstance(x, str):
            return True
        if not _RFC3339.match(x):
            return False
        datetime.fromisoformat(x.replace(":60", ":59", 1) if x[17:19] == "60" else x)
        return True

    @checker.checks("date", raises=ValueError)
    def is_date(x: object) -> bool:
        if not isinstance(x, str):
            return True
        return bool(_DATE.match(x)) and date.fromisoformat(x) is not None

    for name in ("guid", "uuid"):
        checker.checks(name)(lambda x: not isinstance(x, str) or bool(_GUID.match(x)))
    for name in ("float", "double"):
        checker.checks(name)(lambda x: not isinstance(x, float) or math.isfinite(x))
    checker.checks("email")(lambda x: not isinstance(x, str) or "@" in x)
    return checker


FORMAT_CHECKER = _build_format_checker()

# ---------------------------------------------------------------------------------- document normalizing

_CHILD_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_CHILDREN = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
_CHILD_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def _normalize_schema(schema: Any) -> None:
    """Rewrite, in place, two idioms of ServiceTitan's generator into plain JSON Schema.

    - `nullable: true` (OpenAPI 3.0; it also survives in a few 3.1 documents, where it would otherwise be
      ignored although the authors clearly mean "may be null") becomes an explicit null alternative.
    - a one-branch `oneOf`/`anyOf` (used to attach a description to a `$ref`) becomes `allOf`: same meaning,
      but jsonschema then reports the inner error instead of "is not valid under any of the given schemas".
    """
    if not isinstance(schema, dict):
        return
    for key in _CHILD_MAPS:
        sub = schema.get(key)
        if isinstance(sub, dict):
            for value in sub.values():
                _normalize_schema(value)
    for key in _CHILDREN:
        _normalize_schema(schema.get(key))
    for key in _CHILD_LISTS:
        for value in schema.get(key) or ():
            _normalize_schema(value)
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and len(branches) == 1:
            schema.setdefault("allOf", []).extend(schema.pop(key))
    if schema.pop("nullable", False) is True:
        _allow_null(schema)


def _allow_null(schema: dict[str, Any]) -> None:
    composite = {"$ref", "allOf", "anyOf", "oneOf", "enum", "const"} & schema.keys()
    kind = schema.get("type")
    if kind is not None and not composite:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        schema["type"] = [*kinds, "null"] if "null" not in kinds else kinds
        return
    description = schema.get("description")
    inner = {k: v for k, v in schema.items() if k != "description"}
    schema.clear()
    schema["anyOf"] = [{"type": "null"}, inner]
    if description is not None:
        schema["description"] = description


def _document_schemas(doc: Mapping[str, Any]) -> Iterator[Any]:
    components = doc.get("components", {})
    yield from components.get("schemas", {}).values()
    for param in components.get("parameters", {}).values():
        yield param.get("schema")
    for holder in (*components.get("requestBodies", {}).values(), *components.get("responses", {}).values()):
        yield from _content_schemas(holder)
    for item in doc.get("paths", {}).values():
        for param in item.get("parameters", ()):
            yield param.get("schema")
        for method in _HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", ()):
                yield param.get("schema")
            yield from _content_schemas(op.get("requestBody", {}))
            for response in op.get("responses", {}).values():
                yield from _content_schemas(response)


def _content_schemas(holder: Mapping[str, Any]) -> Iterator[Any]:
    for media in holder.get("content", {}).values():
        yield media.get("schema")


def _pointer_escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _pointer(*segments: str) -> str:
    return "".join("/" + _pointer_escape(s) for s in segments)


# ------------------------------------------------------------------------------------ schema validators


class SchemaValidator:
    """One schema location of one document: a fast yes/no check plus jsonschema for the messages."""

    def __init__(self, document: OpenAPIDocument, pointer: str, schema: Any, *, fast: bool) -> None:
        self.pointer = pointer
        self._full = Draft202012Validator(
            {"$ref": f"{document.uri}#{pointer}"},
            registry=document.registry,
            format_checker=FORMAT_CHECKER,
        )
        self._fast: Check | None = None
        if fast:
            try:
                self._fast = document.compiler.compile(schema)
            except Unsupported:
                self._fast = None  # slower but never laxer

    @property
    def has_fast_path(self) -> bool:
        return self._fast is not None

    def is_valid_fast(self, instance: Any) -> bool:
        """The compiled check alone (tests compare it with `is_valid`)."""
        if self._fast is None:
            raise RuntimeError(f"no fast path for {self.pointer}")
        return self._fast(instance)

    def is_valid(self, instance: Any) -> bool:
        """jsonschema alone."""
        return self._full.is_valid(instance)

    def errors(self, instance: Any, where: str) -> list[str]:
        if self._fast is not None and self._fast(instance):
            return []
        return _describe(self._full.iter_errors(instance), where)


def _leaf_errors(error: ValidationError) -> list[ValidationError]:
    """Look through `anyOf`/`oneOf` failures when only one non-null branch could have applied."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    candidates = {i: errs for i, errs in branches.items() if error.validator_value[i] != {"type": "null"}}
    if len(candidates) != 1:
        return [error]
    (errs,) = candidates.values()
    return [leaf for sub in errs for leaf in _leaf_errors(sub)]


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(errors: Iterable[ValidationError], where: str) -> list[str]:
    """One line per distinct problem; the same problem in many list items is reported once with a count."""
    groups: dict[tuple[str, ...], list[ValidationError]] = {}
    for error in errors:
        for leaf in _leaf_errors(error):
            pattern = re.sub(r"\[\d+\]", "[*]", leaf.json_path)
            # A missing or unexpected property is its own problem; a bad value is the same problem
            # wherever the same schema rejects it, whatever the value.
            naming = leaf.validator in ("required", "additionalProperties", "unevaluatedProperties")
            key = (pattern, *map(str, leaf.absolute_schema_path), leaf.message if naming else "")
            groups.setdefault(key, []).append(leaf)
    lines = []
    for (pattern, *_), leaves in groups.items():
        first = leaves[0]
        location = "" if first.json_path == "$" else f" {first.json_path}"
        line = f"{where}{location}: {_shorten(first.message)}"
        if len(leaves) > 1:
            line += f" (and {len(leaves) - 1} more at {pattern})"
        lines.append(line)
    return lines


# -------------------------------------------------------------------------------------- documents/routes


@dataclass(frozen=True)
class _Source:
    name: str  # relative to the OpenAPI folder, e.g. "jpm-v2.json" or "mar2026/jpm-v2.json"
    file: Path
    server_path: str  # e.g. "/jpm/v2"


@dataclass(frozen=True)
class _Route:
    key: str  # the `paths` key, e.g. "/tenant/{tenant}/jobs/{id}"
    segments: tuple[str | None, ...]  # None for a `{param}` segment
    params: tuple[str, ...]
    rank: tuple[int, ...]  # lower sorts first: literal (0) beats parameter (1), left to right
    item: Mapping[str, Any]


_SERVERS_HEAD = re.compile(rb'"servers"\s*:\s*\[\s*\{\s*"url"\s*:\s*"([^"]+)"')


def _server_path(file: Path) -> str:
    # The documents put `servers` near the top: read a few KB instead of parsing megabytes.
    with file.open("rb") as fh:
        head = fh.read(8192)
    found = _SERVERS_HEAD.search(head)
    url = found.group(1).decode() if found else json.loads(file.read_bytes())["servers"][0]["url"]
    return urlsplit(url).path.rstrip("/")


def _build_routes(paths: Mapping[str, Any]) -> dict[int, list[_Route]]:
    by_length: dict[int, list[_Route]] = {}
    for key, item in paths.items():
        parts = key.strip("/").split("/")
        segments = tuple(None if p.startswith("{") and p.endswith("}") else p for p in parts)
        params = tuple(p[1:-1] for p in parts if p.startswith("{") and p.endswith("}"))
        rank = tuple(0 if s is not None else 1 for s in segments)
        by_length.setdefault(len(parts), []).append(_Route(key, segments, params, rank, item))
    for routes in by_length.values():
        routes.sort(key=lambda r: r.rank)
    return by_length


class OpenAPIDocument:
    """One OpenAPI document, normalized, with its routes, a schema registry and cached validators."""

    def __init__(self, source: _Source, *, fast: bool) -> None:
        self.source = source
        self.data: dict[str, Any] = json.loads(source.file.read_bytes())
        for schema in _document_schemas(self.data):
            _normalize_schema(schema)
        self.uri = f"urn:servicetitan-openapi:{source.name}"
        resource = Resource.from_contents(self.data, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        self.compiler = SchemaCompiler(self.data, FORMAT_CHECKER)
        self.routes = _build_routes(self.data.get("paths", {}))
        self.security_schemes: Mapping[str, Any] = self.data.get("components", {}).get("securitySchemes", {})
        self._fast = fast
        self._validators: dict[str, SchemaValidator] = {}

    def match(self, segments: Sequence[str]) -> Iterator[tuple[_Route, dict[str, str]]]:
        """Routes matching the segments, most specific first."""
        for route in self.routes.get(len(segments), ()):
            if all(t is None or t == s for t, s in zip(route.segments, segments, strict=True)):
                if any(t is None and not s for t, s in zip(route.segments, segments, strict=True)):
                    continue  # an empty segment never fills a parameter
                values = [s for t, s in zip(route.segments, segments, strict=True) if t is None]
                yield route, dict(zip(route.params, values, strict=True))

    def resolve_pointer(self, pointer: str) -> Any:
        node: Any = self.data
        for raw in pointer[1:].split("/") if pointer else ():
            segment = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(segment)] if isinstance(node, list) else node[segment]
        return node

    def validator(self, pointer: str) -> SchemaValidator:
        schema = self.resolve_pointer(pointer)
        # Share one validator among all places that merely `$ref` the same component.
        while isinstance(schema, dict) and set(schema) == {"$ref"} and schema["$ref"].startswith("#/"):
            pointer = schema["$ref"][1:]
            schema = self.resolve_pointer(pointer)
        cached = self._validators.get(pointer)
        if cached is None:
            cached = self._validators[pointer] = SchemaValidator(self, pointer, schema, fast=self._fast)
        return cached


# ------------------------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    """An operation of a ServiceTitan OpenAPI document, as matched for one request path."""

    operation_id: str
    method: str  # upper case
    template: str  # full path template including the module base, e.g. "/jpm/v2/tenant/{tenant}/jobs/{id}"
    source: str  # document file, e.g. "jpm-v2.json" or "mar2026/jpm-v2.json"
    path_params: Mapping[str, str] = field(default_factory=dict, hash=False)
    spec: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    # Pointer to the operation object inside the document, e.g. "/paths/~1tenant~1{tenant}~1jobs/post".
    pointer: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    required: bool
    kind: str | None  # primitive type used to coerce the raw string
    item_kind: str | None
    validator: SchemaValidator | None


@dataclass
class _CompiledOperation:
    operation: Operation  # as first resolved: use its id/spec/pointer, never its path_params
    document: OpenAPIDocument
    params: list[_Param]
    security: list[dict[str, list[str]]]
    security_schemes: Mapping[str, Any]
    body: dict[str, SchemaValidator | None] | None  # media type -> validator; None when no requestBody
    responses: dict[str, dict[str, SchemaValidator | None]] = field(default_factory=dict)


# The Mar-2026 copies declare only "app key in header or query" at document level, but every operation of
# the live API also needs the OAuth bearer token (the May documents say so on every operation).
_FALLBACK_SECURITY = [{"apiKeyHeader": [], "oauth": []}]


def _primitive_kind(schema: Any, document: OpenAPIDocument, depth: int = 0) -> str | None:
    if not isinstance(schema, dict) or depth > 20:
        return None
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), None)
    if "$ref" in schema:
        return _primitive_kind(document.resolve_pointer(schema["$ref"][1:]), document, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key) or ():
            found = _primitive_kind(branch, document, depth + 1)
            if found not in (None, "null"):
                return found
    return None


def _items_schema(schema: Any, document: OpenAPIDocument) -> Any:
    if not isinstance(schema, dict):
        return None
    if "items" in schema:
        return schema["items"]
    if "$ref" in schema:
        return _items_schema(document.resolve_pointer(schema["$ref"][1:]), document)
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key) or ():
            found = _items_schema(branch, document)
            if found is not None:
                return found
    return None


_INT = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _coerce(raw: str, kind: str | None) -> Any:
    """Turn a raw path/query/header string into the JSON value the schema talks about (if it parses)."""
    if kind == "integer" and _INT.match(raw):
        return int(raw)
    if kind == "number" and _NUMBER.match(raw):
        return int(raw) if _INT.match(raw) else float(raw)
    if kind == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"  # ASP.NET binds booleans case-insensitively
    return raw


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json_media(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def _media_matches(actual: str, documented: Iterable[str]) -> str | None:
    """The documented media type an actual Content-Type satisfies (any JSON flavour satisfies a JSON one)."""
    documented = list(documented)
    if actual in documented:
        return actual
    if _is_json_media(actual):
        return next((d for d in documented if _is_json_media(d)), None)
    return None


# ------------------------------------------------------------------------------------------- the contract


class ServiceTitanContract:
    """ServiceTitan's OpenAPI documents as a request/response checker. Documents load lazily, per module."""

    def __init__(self, openapi_dir: str | os.PathLike[str] | None = None, *, fast: bool = True) -> None:
        self.openapi_dir = Path(openapi_dir) if openapi_dir is not None else default_openapi_dir()
        if not self.openapi_dir.is_dir():
            raise FileNotFoundError(f"ServiceTitan OpenAPI documents not found at {self.openapi_dir}")
        self._fast = fast
        self._modules: dict[str, list[_Source]] | None = None
        self._documents: dict[str, OpenAPIDocument] = {}
        self._compiled: dict[tuple[str, str, str], _CompiledOperation] = {}

    # ---------------------------------------------------------------- modules and documents

    @property
    def modules(self) -> dict[str, list[str]]:
        """Module base path -> document names, newest first (e.g. "/jpm/v2" -> [jpm-v2.json, mar2026/...])."""
        return {base: [s.name for s in sources] for base, sources in self._module_index().items()}

    @property
    def loaded_sources(self) -> tuple[str, ...]:
        return tuple(self._documents)

    def _module_index(self) -> dict[str, list[_Source]]:
        if self._modules is None:
            index: dict[str, list[_Source]] = {}
            current = sorted(self.openapi_dir.glob("*.json"))
            older = sorted(self.openapi_dir.glob("*/*.json"), key=lambda f: f.parent.name, reverse=True)
            for file in [*current, *older]:
                source = _Source(file.relative_to(self.openapi_dir).as_posix(), file, _server_path(file))
                index.setdefault(source.server_path, []).append(source)
            # Longest base first, so "/marketingads/v2" is tried before a hypothetical "/marketing".
            self._modules = dict(sorted(index.items(), key=lambda kv: -len(kv[0])))
        return self._modules

    def document(self, name: str) -> OpenAPIDocument:
        """The (normalized) document `name`, loading it on first use."""
        doc = self._documents.get(name)
        if doc is None:
            source = next((s for ss in self._module_index().values() for s in ss if s.name == name), None)
            if source is None:
                raise KeyError(f"no OpenAPI document {name!r} in {self.openapi_dir}")
            doc = self._documents[name] = OpenAPIDocument(source, fast=self._fast)
        return doc

    def schema_validator(self, source: str, pointer: str) -> SchemaValidator:
        """The cached validator of the schema at `pointer` (a JSON pointer) in document `source`."""
        return self.document(source).validator(pointer)

    # ---------------------------------------------------------------- routing

    def resolve(self, method: str, path: str) -> Operation:
        """The operation serving `method path`, or ContractViolation when the documents have none."""
        operation, problems = self._find(method.upper(), path)
        if operation is None:
            raise ContractViolation(problems, method=method.upper(), path=path)
        return operation

    def _find(self, method: str, path: str) -> tuple[Operation | None, list[str]]:
        module = next(
            (
                (base, sources)
                for base, sources in self._module_index().items()
                if path.startswith(base + "/")
            ),
            None,
        )
        if module is None:
            bases = ", ".join(sorted(self._module_index()))
            return None, [f"path {path} is under no ServiceTitan module base path ({bases})"]
        base, sources = module
        segments = path[len(base) + 1 :].split("/")
        methods_seen: dict[str, list[str]] = {}
        for source in sources:  # newest document first; older copies only for what it lacks
            document = self.document(source.name)
            for route, values in document.match(segments):
                op = route.item.get(method.lower())
                if isinstance(op, dict):
                    return self._operation(document, base, route, method, op, values), []
                documented = [m.upper() for m in _HTTP_METHODS if isinstance(route.item.get(m), dict)]
                methods_seen.setdefault(base + route.key, documented)
        if methods_seen:
            detail = "; ".join(f"{t} has {', '.join(ms)}" for t, ms in methods_seen.items())
            return None, [f"method {method} is not documented for {path} ({detail})"]
        return None, [f"path {path} matches no path template of {', '.join(s.name for s in sources)}"]

    def _operation(
        self,
        document: OpenAPIDocument,
        base: str,
        route: _Route,
        method: str,
        op: Mapping[str, Any],
        values: dict[str, str],
    ) -> Operation:
        return Operation(
            operation_id=op.get("operationId", f"{method} {route.key}"),
            method=method,
            template=base + route.key,
            source=document.source.name,
            path_params=values,
            spec=op,
            pointer=_pointer("paths", route.key, method.lower()),
        )

    def _compile(self, operation: Operation) -> _CompiledOperation:
        key = (operation.source, operation.method, operation.template)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile_operation(operation)
        return compiled

    def _compile_operation(self, operation: Operation) -> _CompiledOperation:
        document = self.document(operation.source)
        path_key = operation.template[len(document.source.server_path) :]
        item_pointer = _pointer("paths", path_key)
        item = document.resolve_pointer(item_pointer)
        op = operation.spec
        merged: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}
        for owner, params in (
            (item_pointer, item.get("parameters", ())),
            (operation.pointer, op.get("parameters", ())),
        ):
            for i, param in enumerate(params):
                pointer = f"{owner}/parameters/{i}"
                if "$ref" in param:
                    pointer = param["$ref"][1:]
                    param = document.resolve_pointer(pointer)
                merged[(param["in"], param["name"])] = (pointer, param)
        params = [self._param(document, pointer, param) for pointer, param in merged.values()]
        security = op.get("security", document.data.get("security", []))
        schemes = document.security_schemes
        if document.source != self._module_index()[document.source.server_path][0]:
            security = _FALLBACK_SECURITY
            schemes = self.document(
                self._module_index()[document.source.server_path][0].name
            ).security_schemes
        return _CompiledOperation(
            operation=operation,
            document=document,
            params=params,
            security=list(security),
            security_schemes=schemes,
            body=self._content(document, f"{operation.pointer}/requestBody", op.get("requestBody")),
        )

    def _param(self, document: OpenAPIDocument, pointer: str, param: Mapping[str, Any]) -> _Param:
        schema = param.get("schema")
        kind = _primitive_kind(schema, document)
        item_kind = _primitive_kind(_items_schema(schema, document), document) if kind == "array" else None
        return _Param(
            name=param["name"],
            location=param["in"],
            required=bool(param.get("required")) or param["in"] == "path",
            kind=kind,
            item_kind=item_kind,
            validator=document.validator(f"{pointer}/schema") if schema is not None else None,
        )

    def _content(
        self, document: OpenAPIDocument, pointer: str, holder: Mapping[str, Any] | None
    ) -> dict[str, SchemaValidator | None] | None:
        if holder is None:
            return None
        content = holder.get("content", {})
        return {
            media.lower(): (
                document.validator(f"{pointer}/content/{_pointer_escape(media)}/schema")
                if "schema" in spec
                else None
            )
            for media, spec in content.items()
        }

    def _response_content(
        self, compiled: _CompiledOperation, status_key: str
    ) -> dict[str, SchemaValidator | None]:
        found = compiled.responses.get(status_key)
        if found is None:
            holder = compiled.operation.spec["responses"][status_key]
            pointer = f"{compiled.operation.pointer}/responses/{_pointer_escape(status_key)}"
            found = compiled.responses[status_key] = self._content(compiled.document, pointer, holder) or {}
        return found

    # ---------------------------------------------------------------- public checks

    def check_request(self, request: httpx.Request) -> list[str]:
        """Every way `request` departs from the contract (empty when it conforms)."""
        return self._request_report(request).problems

    def check_response(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        """Every way `response` (to `request`) departs from the contract (empty when it conforms)."""
        return self._response_report(request, response).problems

    def validate_request(self, request: httpx.Request) -> None:
        violation = self._request_report(request).violation("request")
        if violation is not None:
            raise violation

    def validate_response(self, request: httpx.Request, response: httpx.Response) -> None:
        violation = self._response_report(request, response).violation(f"response {response.status_code}")
        if violation is not None:
            raise violation

    # ---------------------------------------------------------------- request checks

    def _request_report(self, request: httpx.Request) -> _Report:
        report = _Report(request.method, request.url.path)
        if is_token_request(request):
            report.operation_id, report.problems = "OAuth2_Token", check_token_request(request)
            return report
        operation, problems = self._find(request.method.upper(), request.url.path)
        if operation is None:
            report.problems = problems
            return report
        report.operation_id, report.template = operation.operation_id, operation.template
        compiled = self._compile(operation)
        report.problems += self._security_problems(compiled, request)
        report.problems += self._parameter_problems(compiled, request, operation.path_params)
        report.problems += self._request_body_problems(compiled, request)
        return report

    def _security_problems(self, compiled: _CompiledOperation, request: httpx.Request) -> list[str]:
        if not compiled.security:
            return []
        attempts = [self._requirement_problems(compiled, req, request) for req in compiled.security]
        if any(not problems for problems in attempts):
            return []
        return attempts[0]  # the first alternative is the documented, preferred one

    def _requirement_problems(
        self, compiled: _CompiledOperation, requirement: Mapping[str, Any], request: httpx.Request
    ) -> list[str]:
        problems = []
        for name in requirement:
            scheme = compiled.security_schemes.get(name, {})
            kind = scheme.get("type")
            if kind == "apiKey":
                where, key = scheme.get("in"), scheme.get("name", "")
                present = request.headers.get(key) if where == "header" else request.url.params.get(key)
                if not present:
                    problems.append(f"missing {where} '{key}' (security scheme '{name}')")
            elif kind in ("oauth2", "openIdConnect") or (kind == "http" and scheme.get("scheme") == "bearer"):
                auth = request.headers.get("authorization", "")
                scheme_word, _, token = auth.partition(" ")
                if scheme_word.lower() != "bearer" or not token.strip():
                    shown = "missing" if not auth else f"got {_shorten(auth, 40)!r}"
                    problems.append(
                        "header 'Authorization' must be 'Bearer <access token>'"
                        f" (security scheme '{name}'; {shown})"
                    )
        return problems

    def _parameter_problems(
        self, compiled: _CompiledOperation, request: httpx.Request, path_params: Mapping[str, str]
    ) -> list[str]:
        problems: list[str] = []
        query = request.url.params
        declared_query = {p.name for p in compiled.params if p.location == "query"}
        for param in compiled.params:
            problems += self._one_parameter(param, request, path_params)
        allowed = declared_query | self._security_query_names(compiled)
        object_prefixes = tuple(
            (p.name + ".", p.name + "[")
            for p in compiled.params
            if p.location == "query" and p.kind == "object"
        )
        for name in dict.fromkeys(query.keys()):
            if name in allowed or any(name.startswith(pre) for pair in object_prefixes for pre in pair):
                continue
            hint = next((d for d in declared_query if d.lower() == name.lower()), None)
            extra = f"; did you mean '{hint}'?" if hint else ""
            problems.append(
                f"unknown query parameter '{name}'"
                f" (not declared for {compiled.operation.operation_id}{extra})"
            )
        return problems

    def _security_query_names(self, compiled: _CompiledOperation) -> set[str]:
        names = set()
        for requirement in compiled.security:
            for name in requirement:
                scheme = compiled.security_schemes.get(name, {})
                if scheme.get("type") == "apiKey" and scheme.get("in") == "query":
                    names.add(scheme.get("name", ""))
        return names

    def _one_parameter(
        self, param: _Param, request: httpx.Request, path_params: Mapping[str, str]
    ) -> list[str]:
        where = f"{param.location} parameter '{param.name}'"
        raw_values = _raw_values(param, request, path_params)
        if not raw_values:
            return [f"missing required {where}"] if param.required else []
        if param.kind == "object":
            return []  # deep-object filters (customField.*) are accepted as given
        if param.kind == "array":
            value: Any = [_coerce(v, param.item_kind) for v in raw_values]
        elif len(raw_values) > 1:
            return [f"{where} given {len(raw_values)} times but is not an array"]
        else:
            value = _coerce(raw_values[0], param.kind)
        if param.validator is None:
            return []
        return param.validator.errors(value, where)

    def _request_body_problems(self, compiled: _CompiledOperation, request: httpx.Request) -> list[str]:
        body = _request_content(request)
        op_id = compiled.operation.operation_id
        if compiled.body is None:
            return [f"{op_id} takes no request body, got {len(body)} bytes"] if body else []
        documented = ", ".join(compiled.body) or "a body"
        if not body:
            # The documents never mark requestBody as required, but ServiceTitan's [FromBody] endpoints
            # reject an empty body with 400, so an empty body is never what a client means.
            return [f"request body missing ({op_id} expects {documented})"]
        media = _media_type(request.headers.get("content-type"))
        matched = _media_matches(media, compiled.body)
        if matched is None:
            return [f"request Content-Type {media or '(none)'!r} is not documented ({documented})"]
        validator = compiled.body[matched]
        if validator is None or not _is_json_media(matched):
            return []
        try:
            payload = json.loads(body)
        except ValueError as exc:
            return [f"request body is not valid JSON: {exc}"]
        return validator.errors(payload, "request body")

    # ---------------------------------------------------------------- response checks

    def _response_report(self, request: httpx.Request, response: httpx.Response) -> _Report:
        report = _Report(request.method, request.url.path)
        if is_token_request(request):
            report.operation_id, report.problems = "OAuth2_Token", check_token_response(response)
            return report
        operation, problems = self._find(request.method.upper(), request.url.path)
        if operation is None:
            report.problems = problems
            return report
        report.operation_id, report.template = operation.operation_id, operation.template
        report.problems = self._response_problems(self._compile(operation), response)
        return report

    def _response_problems(self, compiled: _CompiledOperation, response: httpx.Response) -> list[str]:
        status = response.status_code
        responses = compiled.operation.spec.get("responses", {})
        status_key = next(
            (
                k
                for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default")
                if k in responses
            ),
            None,
        )
        if status_key is None:
            if status in ALWAYS_ALLOWED_STATUSES:
                return _problem_details_problems(response)
            documented = ", ".join(responses) or "none"
            return [
                f"status {status} is not documented for {compiled.operation.operation_id}"
                f" (documented: {documented})"
            ]
        content = self._response_content(compiled, status_key)
        body = response.content
        media = _media_type(response.headers.get("content-type"))
        if not content:
            if body:
                return [
                    f"status {status} documents no response body,"
                    f" got {len(body)} bytes ({media or 'no type'})"
                ]
            return []
        documented = ", ".join(content)
        if not body:
            return [f"response body missing (status {status} documents {documented})"]
        matched = _media_matches(media, content)
        if matched is None:
            return [
                f"response Content-Type {media or '(none)'!r} is not documented for {status} ({documented})"
            ]
        validator = content[matched]
        if validator is None or not _is_json_media(matched):
            return []
        try:
            payload = json.loads(body)
        except ValueError as exc:
            return [f"response body is not valid JSON: {exc}"]
        return validator.errors(payload, f"response body ({status})")


def _raw_values(param: _Param, request: httpx.Request, path_params: Mapping[str, str]) -> list[str]:
    if param.location == "path":
        value = path_params.get(param.name)
        return [value] if value else []
    if param.location == "query":
        return request.url.params.get_list(param.name)
    if param.location == "header":
        return request.headers.get_list(param.name)
    if param.location == "cookie":
        cookies = (c.strip().partition("=") for c in request.headers.get("cookie", "").split(";"))
        return [value for name, _, value in cookies if name == param.name]
    return []


def _request_content(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead as exc:
        raise RuntimeError("read a streaming request (await request.aread()) before checking it") from exc


_PROBLEM_MEMBER_TYPES: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "title": str,
    "detail": (str, type(None)),
    "instance": (str, type(None)),
    "traceId": str,
    "errors": dict,
    "data": dict,
}


def _problem_details_problems(response: httpx.Response) -> list[str]:
    """401/403/429 are allowed everywhere; if they carry JSON it must look like RFC 7807 ProblemDetails."""
    media = _media_type(response.headers.get("content-type"))
    if not response.content or not _is_json_media(media):
        return []
    where = f"response body ({response.status_code})"
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        return [f"{where} is not valid JSON: {exc}"]
    if not isinstance(body, dict):
        return [f"{where} is not a ProblemDetails object"]
    problems = []
    if not isinstance(body.get("title"), str):
        problems.append(f"{where} $: ProblemDetails needs a string 'title'")
    status = body.get("status")
    if status is not None and (not isinstance(status, int) or status != response.status_code):
        problems.append(f"{where} $.status: {status!r} does not equal the HTTP status {response.status_code}")
    for name, kind in _PROBLEM_MEMBER_TYPES.items():
        if name in body and not isinstance(body[name], kind):
            problems.append(f"{where} $.{name}: {body[name]!r} has the wrong type")
    return problems


# -------------------------------------------------------------------------------------------- the token


def is_token_request(request: httpx.Request) -> bool:
    return request.url.path.endswith(TOKEN_PATH_SUFFIX)


def check_token_request(request: httpx.Request) -> list[str]:
    """OAuth2 client credentials as ServiceTitan wants them: form fields (client_secret_post), not Basic."""
    problems = []
    if request.method.upper() != "POST":
        problems.append(f"token request must be POST, got {request.method}")
    media = _media_type(request.headers.get("content-type"))
    if media != "application/x-www-form-urlencoded":
        problems.append(
            f"token request Content-Type must be application/x-www-form-urlencoded, got {media or '(none)'!r}"
        )
    form: dict[str, list[str]] = {}
    for key, value in parse_qsl(_request_content(request).decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(key, []).append(value)
    if form.get("grant_type") != ["client_credentials"]:
        problems.append(f"form field grant_type must be 'client_credentials', got {form.get('grant_type')}")
    for name in ("client_id", "client_secret"):
        values = form.get(name)
        if not values or not values[0]:
            problems.append(
                f"form field {name} missing (ServiceTitan reads the credentials from the form body)"
            )
    unknown = sorted(set(form) - {"grant_type", "client_id", "client_secret", "scope"})
    if unknown:
        problems.append(f"unexpected token form fields {unknown}")
    return problems


def check_token_response(response: httpx.Response) -> list[str]:
    status = response.status_code
    media = _media_type(response.headers.get("content-type"))
    if status != 200:
        if status in (400, 401) and response.content:
            return _oauth_error_problems(response, media)
        if status in (400, 401, 429):
            return []
        return [f"token endpoint answered {status}; expected 200, or 400/401 (OAuth error) or 429"]
    if not _is_json_media(media):
        return [f"token response Content-Type must be JSON, got {media or '(none)'!r}"]
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        return [f"token response is not valid JSON: {exc}"]
    if not isinstance(body, dict):
        return ["token response is not a JSON object"]
    problems = []
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        problems.append("token response $.access_token: must be a non-empty string")
    expires = body.get("expires_in")
    if not isinstance(expires, int) or isinstance(expires, bool) or expires <= 0:
        problems.append(f"token response $.expires_in: must be a positive integer (seconds), got {expires!r}")
    kind = body.get("token_type")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        problems.append(f"token response $.token_type: must be 'Bearer', got {kind!r}")
    if "scope" in body and not isinstance(body["scope"], str | list):
        problems.append(f"token response $.scope: must be a string, got {body['scope']!r}")
    return problems


def _oauth_error_problems(response: httpx.Response, media: str) -> list[str]:
    if not _is_json_media(media):
        return [f"token error response Content-Type must be JSON, got {media or '(none)'!r}"]
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        return [f"token error response is not valid JSON: {exc}"]
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return ["token error response needs a string 'error' (RFC 6749 §5.2)"]
    return []


# ----------------------------------------------------------------------------------------- the transport


@dataclass
class Exchange:
    """One request/response pair seen by `ContractRecordingTransport`."""

    request: httpx.Request
    response: httpx.Response | None
    request_violation: ContractViolation | None = None
    response_violation: ContractViolation | None = None

    @property
    def violations(self) -> list[ContractViolation]:
        return [v for v in (self.request_violation, self.response_violation) if v is not None]


class ContractRecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to `transport`, records every exchange and (unless `validate=False`) checks it.

    With `strict=True` the first violation is raised: a bad request before it is forwarded (so the server
    never acts on it), a bad response after it is recorded.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        contract: ServiceTitanContract | None = None,
        *,
        strict: bool = False,
        validate: bool = True,
    ) -> None:
        self._transport = transport
        self.contract = (contract or ServiceTitanContract()) if validate else None
        self.strict = strict
        self.exchanges: list[Exchange] = []

    @property
    def violations(self) -> list[ContractViolation]:
        return [v for exchange in self.exchanges for v in exchange.violations]

    def assert_no_violations(self) -> None:
        found = self.violations
        if found:
            raise ContractViolation(
                [str(v) for v in found],
                method="*",
                path="*",
                operation_id=f"{len(found)} contract violation(s) in {len(self.exchanges)} exchanges",
                phase="traffic",
            )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # so the body can be validated and still sent
        exchange = Exchange(request, None)
        self.exchanges.append(exchange)
        if self.contract is not None:
            exchange.request_violation = self.contract._request_report(request).violation("request")
            if self.strict and exchange.request_violation is not None:
                raise exchange.request_violation
        upstream = await self._transport.handle_async_request(request)
        try:
            raw = b"".join([chunk async for chunk in upstream.aiter_raw()])
        finally:
            await upstream.aclose()
        exchange.response = await _copy_response(upstream, raw, request)
        if self.contract is not None:
            report = self.contract._response_report(request, exchange.response)
            exchange.response_violation = report.violation(f"response {upstream.status_code}")
            if self.strict and exchange.response_violation is not None:
                raise exchange.response_violation
        return httpx.Response(
            upstream.status_code,
            headers=upstream.headers,
            stream=httpx.ByteStream(raw),
            extensions=upstream.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._transport.aclose()


async def _copy_response(upstream: httpx.Response, raw: bytes, request: httpx.Request) -> httpx.Response:
    """A separate, already-read response for the record (decoding Content-Encoding like the client would)."""
    copy = httpx.Response(
        upstream.status_code,
        headers=upstream.headers,
        stream=httpx.ByteStream(raw),
        extensions=dict(upstream.extensions),
        request=request,
    )
    await copy.aread()
    return copy
