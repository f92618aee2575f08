"""Several seeded tenants behind one sandbox process (``st-mcp sandbox --tenant 3101 --tenant 3102:11``).

Each tenant is today's single-tenant app (its own seed, state file, clock, faults, request log and rate
limiter); this front only picks which one answers:

- API paths by their ``/tenant/{id}/`` segment. A tenant not served goes to the default tenant, whose gate
  refuses it exactly as a single-tenant sandbox refuses another tenant's path (401 without a valid token,
  else 403 ProblemDetails).
- ``POST /connect/token`` by client id, since ServiceTitan's token endpoint takes nothing else:
  ``<base>-<id>`` is tenant ``id``'s (``base`` = ``sandbox-client``, or ``--client-id``); any other id is
  the default tenant's. ``<base>-<id>`` of a tenant not served is refused (400 invalid_client).
- ``/_sandbox/...`` admin routes by the ``tenant`` query parameter (``?tenant=3102``), else the default
  tenant; a tenant not served → 404.

The default tenant is 4417001 when served (st-mcp asks it with the plain ``sandbox-client``), else the first.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Sequence
from urllib.parse import parse_qs, parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .app import create_sandbox_app
from .auth import TOKEN_PATH, _client_credentials, _OAuthError
from .config import SANDBOX_CLIENT_ID, SANDBOX_TENANT_ID, SandboxConfig
from .middleware import ADMIN_PREFIX
from .problems import problem_response

_PATH_TENANT = re.compile(r"/tenant/(\d+)(?:/|$)")


class MultiTenantSandbox:
    """The ASGI app: ``state.sandboxes`` (tenant id → SandboxTenant), ``state.apps``, ``state.sandbox``
    (the default tenant, as on a single-tenant app)."""

    def __init__(self, apps: dict[int, ASGIApp], default: int, client_base: str) -> None:
        self.apps = apps
        self.default = default
        self._client = re.compile(re.escape(client_base) + r"-(\d+)")
        self.state = State()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the tenants' apps have no start-up work of their own
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.apps[self.default](scope, receive, send)
            return
        path: str = scope["path"]
        if path == TOKEN_PATH:
            await self._token(scope, receive, send)
        elif path.startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send)
        else:
            match = _PATH_TENANT.search(path)
            tenant = int(match.group(1)) if match else self.default
            await self.apps.get(tenant, self.apps[self.default])(scope, receive, send)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.get("tenant", [None])[-1]
        if given is None:
            await self.apps[self.default](scope, receive, send)
            return
        if not given.isdigit():
            await problem_response(400, errors={"tenant": ["Give a tenant id."]})(scope, receive, send)
            return
        app = self.apps.get(int(given))
        if app is None:
            await problem_response(404, f"The sandbox serves no tenant {given}.")(scope, receive, send)
            return
        await app(scope, receive, send)

    async def _token(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:  # the chosen tenant's app reads the body again
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            client_id = _client_credentials(Request(scope), form)[0]
        except _OAuthError:
            client_id = ""  # malformed Basic: the default tenant's endpoint answers it as before
        tenant = self.default
        match = self._client.fullmatch(client_id)
        if match:
            tenant = int(match.group(1))
            if tenant not in self.apps:
                error = _OAuthError(400, "invalid_client", f"the sandbox serves no tenant {tenant}")
                await error.response()(scope, replay, send)
                return
        await self.apps[tenant](scope, replay, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_multi_sandbox_app(configs: Sequence[SandboxConfig]) -> MultiTenantSandbox:
    """One app serving every config's tenant (distinct tenant ids). The configs' ``client_id`` (all the
    same, or None for any) is the base of each tenant's own client id."""
    if not configs:
        raise ValueError("give at least one tenant")
    ids = [config.tenant_id for config in configs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"each sandbox tenant needs its own id (got {ids})")
    default = SANDBOX_TENANT_ID if SANDBOX_TENANT_ID in ids else ids[0]
    key = secrets.token_bytes(32)
    apps: dict[int, ASGIApp] = {}
    built: dict[int, Starlette] = {}
    for config in configs:
        fixed = config.client_id
        # A fixed client id: each tenant answers to "<id>-<tenant>", the default tenant to the plain id too.
        if fixed is not None:
            own = f"{fixed}-{config.tenant_id}"
            client, aliases = (fixed, (own,)) if config.tenant_id == default else (own, ())
            config = dataclasses.replace(config, client_id=client, client_aliases=aliases, signing_key=key)
        else:
            config = dataclasses.replace(config, signing_key=key)
        app = create_sandbox_app(config)
        apps[config.tenant_id] = app
        built[config.tenant_id] = app
    multi = MultiTenantSandbox(apps, default, configs[0].client_id or SANDBOX_CLIENT_ID)
    multi.state.apps = built
    multi.state.sandboxes = {tenant_id: app.state.sandbox for tenant_id, app in built.items()}
    multi.state.sandbox = built[default].state.sandbox
    multi.state.state_files = {tenant_id: app.state.state_file for tenant_id, app in built.items()}
    return multi
