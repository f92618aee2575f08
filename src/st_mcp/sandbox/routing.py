"""How a handler is declared and called: ``Router`` collects (method, spec path, handler); ``Call`` is
what a handler receives; ``guarded`` wraps it in the gate (auth, tenant, scope, rate limit) and turns
``ProblemError`` into ProblemDetails."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import Gate, Principal
from .bodies import parse_body
from .problems import ProblemError, not_found, problem_response
from .query import Query
from .state import SandboxTenant

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E")


@dataclass
class Call:
    request: Request
    tenant: SandboxTenant
    principal: Principal
    query: Query

    def path_id(self, name: str = "id") -> int:
        return int(self.request.path_params[name])

    async def body(self, model: type[M]) -> M:
        return await parse_body(self.request, model)


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as written in the OpenAPI documents, module prefix included
    handler: Handler
    # Documented query parameters the sandbox cannot honour: refused (400 naming them), never ignored.
    refuses: frozenset[str] = frozenset()


class Router:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(self, method: str, path: str, refuses: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, frozenset(refuses)))
            return handler

        return register

    def get(self, path: str, refuses: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        return self.route("GET", path, refuses)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("PUT", path)


def get_or_404(collection: Mapping[int, E], entity_id: int, entity: str) -> E:
    """The record, or 404 ProblemDetails naming what was missing."""
    try:
        return collection[entity_id]
    except KeyError:
        raise not_found(entity, entity_id) from None


def guarded_routes(
    endpoints: Iterable[tuple[Endpoint, str]], tenant: SandboxTenant, gate: Gate
) -> list[Route]:
    """One route per path, serving each of its methods, so a wrong method's 405 lists every method the
    path takes in ``Allow`` (one route per method would list only its own)."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for endpoint, scope in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = guarded(endpoint, scope, tenant, gate)
    routes = []
    for spec_path, handlers in by_path.items():

        async def dispatch(request: Request, handlers: Mapping[str, Any] = handlers) -> Response:
            return await handlers["GET" if request.method == "HEAD" else request.method](request)  # type: ignore[no-any-return]

        # Every path parameter the sandbox serves (tenant, id) is an int64.
        path = re.sub(r"\{(\w+)\}", r"{\1:int}", spec_path)
        routes.append(Route(path, dispatch, methods=list(handlers), name=spec_path))
    return routes


def guarded(
    endpoint: Endpoint, scope: str, tenant: SandboxTenant, gate: Gate
) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        try:
            principal = gate.check(request, scope)
            _refuse_unsupported(endpoint, request)
            query = Query(request.query_params)
            try:
                result = await endpoint.handler(Call(request, tenant, principal, query))
            finally:
                tenant.params_read.setdefault((endpoint.method, endpoint.path), set()).update(query.read)
        except ProblemError as exc:
            return exc.response()
        except Exception:
            log.exception("sandbox handler failed: %s %s", endpoint.method, endpoint.path)
            return problem_response(500)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=200)  # ServiceTitan answers its "empty" operations with 200
        return JSONResponse(result)

    return handle


def _refuse_unsupported(endpoint: Endpoint, request: Request) -> None:
    given = sorted(name for name in endpoint.refuses if name in request.query_params)
    if given:
        message = "The sandbox cannot filter by this parameter (ServiceTitan does); leave it out."
        raise ProblemError(400, errors={name: [message] for name in given})


def referenced(
    collection: Mapping[int, E],
    entity_id: int | None,
    field: str,
    entity: str,
    status: int = 400,
) -> E:
    """A record named in a request body: missing or inactive → ``status`` with a field error."""
    record = collection.get(entity_id) if entity_id is not None else None
    if record is None or not getattr(record, "active", True):
        message = f"{entity} with ID {entity_id} does not exist or is inactive."
        raise ProblemError(status, message if status != 400 else None, {field: [message]})
    return record


def referenced_all(collection: Mapping[int, E], ids: list[int] | None, field: str, entity: str) -> list[int]:
    """Every id in a body list must name an active record (400 otherwise)."""
    for entity_id in ids or []:
        referenced(collection, entity_id, field, entity)
    return list(ids or [])
