"""``create_sandbox_app``: the Starlette app that serves the token endpoint and the v2 operations over
one seeded tenant (``app.state.sandbox``)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .admin import admin_routes, booking_admin_routes
from .auth import TOKEN_PATH, Gate, TokenIssuer
from .clock import SandboxClock
from .config import SandboxConfig
from .middleware import SandboxMiddleware
from .persistence import PersistenceMiddleware
from .problems import problem_response
from .progress import progress_routes
from .ratelimit import SlidingWindowLimiter
from .routes import ENDPOINTS
from .routing import guarded_routes
from .scopes import ALL_SCOPES, OPERATION_SCOPES
from .seed import seed_tenant
from .statefile import StateFile


def create_sandbox_app(config: SandboxConfig | None = None) -> Starlette:
    config = config or SandboxConfig()
    clock = config.clock or SandboxClock()
    tenant = seed_tenant(config.seed, clock, config.tenant_id)
    state = None
    if config.state is not None:
        state = StateFile(config.state)
        state.open(tenant)  # the stored tenant (and its clock) if there is one, else this seeded one
    for rule in config.faults:
        tenant.faults.add_rule(rule)
    scopes = ALL_SCOPES if config.granted_scopes is None else frozenset(config.granted_scopes)
    tenant.issuer = TokenIssuer(
        clock,
        config.tenant_id,
        scopes,
        config.client_id,
        config.client_secret,
        client_aliases=config.client_aliases,
        key=config.signing_key,
    )
    tenant.rate_limiter = SlidingWindowLimiter(config.rate_limit_per_second)
    gate = Gate(tenant.issuer, tenant.rate_limiter, config.tenant_id, config.app_key)

    routes: list[Route] = [Route(TOKEN_PATH, tenant.issuer.token_endpoint, methods=["POST"])]
    routes.extend(admin_routes(tenant.faults))
    routes.extend(booking_admin_routes(tenant))
    routes.extend(progress_routes(tenant, state))
    scoped = []
    for endpoint in ENDPOINTS:
        scope = OPERATION_SCOPES.get((endpoint.method, endpoint.path))
        if scope is None:  # fail fast: a route without a scope would be served unchecked
            raise RuntimeError(f"no scope declared for {endpoint.method} {endpoint.path}")
        scoped.append((endpoint, scope))
    routes.extend(guarded_routes(scoped, tenant, gate))

    middleware = [Middleware(SandboxMiddleware, tenant=tenant, latency_seconds=config.latency_seconds)]
    if state is not None:  # inside the faults: an "after" fault fails the answer of a stored change
        middleware.append(Middleware(PersistenceMiddleware, tenant=tenant, state=state))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _http_problem},
    )
    app.state.sandbox = tenant
    app.state.config = config
    app.state.state_file = state
    return app


async def _http_problem(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer ProblemDetails too, not Starlette's plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return problem_response(status, headers=headers)
