"""Every tenant's services in one process, and which of them a request reaches.

Each tenant has its own ``AppContext``: its ServiceTitan client (token, rate limiter, reference caches),
its gateway, its policy (roles) and its store view (rows, audit chain and leases of that tenant only) on
the one shared database engine. A request reaches exactly one: its bearer token's tenant on HTTP (API
key or JWT claim, ``server/auth.py``), the configured one on stdio. Nothing is looked up by an argument
the caller could choose, so no tool, resource or prompt can name another tenant's data.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from st_mcp.config import Settings
from st_mcp.messaging.gateway import Gateway
from st_mcp.server.auth import request_principal
from st_mcp.server.context import AppContext, open_app_context
from st_mcp.services.errors import UserInputError
from st_mcp.services.phones import normalize_phone
from st_mcp.store import Store
from st_mcp.upstream import Upstream


class UnknownTenantError(LookupError):
    """A token names a tenant this deployment does not serve (config changed under a live token)."""


@dataclass(slots=True)
class Tenants:
    apps: dict[str, AppContext]
    stdio: str  # the tenant of requests that carry no token (stdio, an unauthenticated loopback)
    _numbers: dict[str, AppContext] | None = None  # normalized SMS number → its tenant

    def current(self) -> AppContext:
        """The calling principal's tenant's services."""
        principal = request_principal()
        return self.named(principal.tenant if principal is not None else self.stdio)

    def named(self, name: str) -> AppContext:
        try:
            return self.apps[name]
        except KeyError:
            raise UnknownTenantError(f"this deployment serves no tenant '{name}'") from None

    @property
    def first(self) -> AppContext:
        """For what belongs to no tenant (the database probe, a refusal before any tenant is known)."""
        return self.apps[self.stdio]

    def __iter__(self) -> Iterator[tuple[str, AppContext]]:
        return iter(self.apps.items())

    def by_number(self, number: str | None) -> AppContext | None:
        """The tenant whose SMS number (``[messaging] twilio_from_number``) this is; with one tenant, it."""
        if len(self.apps) == 1:
            return self.first
        if self._numbers is None:  # parsed once, not per webhook
            self._numbers = {}
            for app in self.apps.values():
                own = _phone(app.settings.messaging.twilio_from_number)
                if own is not None:
                    self._numbers[own] = app
        wanted = _phone(number)
        return self._numbers.get(wanted) if wanted is not None else None


def _phone(number: str | None) -> str | None:
    try:
        return normalize_phone(number) if number else None
    except UserInputError:
        return None


@contextlib.asynccontextmanager
async def open_tenants(
    settings: Settings, upstream: Upstream | None = None, gateway: Gateway | None = None
) -> AsyncIterator[Tenants]:
    """Open the store once and every tenant's services on it; close them all afterwards.

    ``upstream`` and ``gateway`` given by the caller (the demo, tests) serve the stdio tenant."""
    store = await Store.open(settings.database_url)
    stdio = settings.stdio_tenant
    try:
        async with contextlib.AsyncExitStack() as stack:
            apps: dict[str, AppContext] = {}
            for name, own in settings.tenant_settings().items():
                given = (upstream, gateway) if name == stdio else (None, None)
                apps[name] = await stack.enter_async_context(
                    open_app_context(own, *given, store=store.scoped(name))
                )
            yield Tenants(apps, stdio)
    finally:
        await store.close()
