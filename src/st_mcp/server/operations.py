"""Routes for whoever runs the server, on the HTTP and SSE apps: liveness, readiness and Prometheus metrics.

``/healthz`` answers 200 while the process serves requests (nothing else is checked: a liveness probe
that fails on a database outage would restart healthy replicas). ``/readyz`` answers 200 only when the
store answers a query and a ServiceTitan token can be had; the verdict is kept for a few seconds so a
fleet of probes costs one check. ``/metrics`` is Prometheus' text format. Health and readiness say
nothing secret and stay open; with ``[auth]`` configured ``/metrics`` wants the same bearer token as
``/mcp`` (any principal the verifier accepts), since tool names, roles and traffic are an operator's
business. Without ``[auth]`` the listener is loopback only, so it is open like ``/mcp``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from mcp.server.mcpserver import MCPServer
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from st_mcp import metrics
from st_mcp.server.auth import BearerTokenVerifier
from st_mcp.server.context import AppContext
from st_mcp.server.shared import SharedAppContext

log = logging.getLogger("st_mcp.operations")
READY_CACHE_SECONDS = 5.0  # probes every second or two from many places cost one check per 5 s
CHECK_TIMEOUT = 5.0  # seconds for each check; a probe must answer before the prober gives up


@dataclass(frozen=True, slots=True)
class Verdict:
    ready: bool
    checks: dict[str, str]  # check → "ok", or why not (an exception's class name)


class Readiness:
    """The store and ServiceTitan checks, run at most once per ``ttl`` seconds whoever asks."""

    def __init__(
        self,
        shared: SharedAppContext,
        ttl: float = READY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._ttl = ttl
        self._clock = clock
        self._lock = anyio.Lock()
        self._verdict: Verdict | None = None
        self._checked_at = 0.0

    async def verdict(self) -> Verdict:
        async with self._lock:  # concurrent probes wait for the one check in flight
            if self._verdict is None or self._clock() - self._checked_at >= self._ttl:
                self._verdict = await self._check()
                self._checked_at = self._clock()
            return self._verdict

    async def _check(self) -> Verdict:
        checks: dict[str, str] = {}
        try:
            with anyio.fail_after(CHECK_TIMEOUT):
                async with self._shared.use() as tenants:
                    checks["store"] = await _attempt(_store_answers, tenants.first)
                    for name, app in tenants:  # each tenant's own credentials
                        key = "servicetitan" if len(tenants.apps) == 1 else f"servicetitan:{name}"
                        checks[key] = await _attempt(_token_obtainable, app)
        except Exception as exc:  # the store (or the client) could not even be opened
            checks.setdefault("store", _why(exc))
            checks.setdefault("servicetitan", "not checked: the services could not be opened")
        ready = all(value == "ok" for value in checks.values())
        if not ready:
            log.warning("not ready: %s", "; ".join(f"{k}: {v}" for k, v in checks.items()))
        return Verdict(ready, checks)


async def _attempt(check: Callable[[AppContext], Awaitable[None]], app: AppContext) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT):
            await check(app)
    except Exception as exc:
        return _why(exc)
    return "ok"


async def _store_answers(app: AppContext) -> None:
    async with app.store.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _token_obtainable(app: AppContext) -> None:
    await app.st.http.tokens.access_token()  # the cached token while it is fresh: no request


def _why(exc: BaseException) -> str:
    """The exception's class only: the probe is unauthenticated and a driver's message may name hosts
    or users. The log line has the details."""
    if isinstance(exc, TimeoutError):
        return f"no answer in {CHECK_TIMEOUT:.0f} s"
    log.warning("readiness check failed: %s: %s", type(exc).__name__, str(exc)[:300])
    return type(exc).__name__


def register_operations(
    server: MCPServer, shared: SharedAppContext, verifier: BearerTokenVerifier | None
) -> Readiness:
    readiness = Readiness(shared)

    @server.custom_route("/healthz", methods=["GET"], include_in_schema=False)
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @server.custom_route("/readyz", methods=["GET"], include_in_schema=False)
    async def readyz(_request: Request) -> Response:
        verdict = await readiness.verdict()
        body = {"status": "ready" if verdict.ready else "unready", "checks": verdict.checks}
        return JSONResponse(body, status_code=200 if verdict.ready else 503)

    @server.custom_route("/metrics", methods=["GET"], include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        if verifier is not None and not await _authorized(request, verifier):
            return JSONResponse(
                {"error": "invalid_token", "error_description": "send the bearer token /mcp accepts"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return readiness


async def _authorized(request: Request, verifier: BearerTokenVerifier) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return await verifier.verify_token(token.strip()) is not None
