"""One set of tenants' ``AppContext``s shared by everything running in a server process at the same time.

MCP sessions (the lifespan), the webhooks and the leads poller all need the store and the ServiceTitan
client. The first user opens them, the last one to leave closes them: concurrent SSE sessions share one
store and one token, a webhook arriving while no client is connected still finds the services, and a
single stdio session behaves exactly as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import anyio

from st_mcp.server.tenants import Tenants

Opener = Callable[[], AbstractAsyncContextManager[Tenants]]


class SharedAppContext:
    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._lock = anyio.Lock()
        self._users = 0
        self._opened: AbstractAsyncContextManager[Tenants] | None = None
        self._app: Tenants | None = None

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[Tenants]:
        async with self._lock:
            if self._app is None:
                self._opened = self._opener()
                self._app = await self._opened.__aenter__()
            self._users += 1
            app = self._app
        try:
            yield app
        finally:
            with anyio.CancelScope(shield=True):  # closing must finish even when the user was cancelled
                async with self._lock:
                    self._users -= 1
                    if self._users == 0 and self._opened is not None:
                        opened, self._opened, self._app = self._opened, None, None
                        await opened.__aexit__(None, None, None)
