"""Keeping the tenant in its state file at the request boundary, so the routes stay plain in-memory code.

A reading request first catches up with other processes' writes. A writing request holds this process's
lock and SQLite's write lock while it runs, then stores what changed, and only then lets its response out
(another process that sees the answer also sees the change)."""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import TOKEN_PATH
from .state import SandboxTenant
from .statefile import StateFile

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_PREFIX = "/_sandbox/"


class PersistenceMiddleware:
    def __init__(self, app: ASGIApp, tenant: SandboxTenant, state: StateFile) -> None:
        self.app = app
        self.tenant = tenant
        self.state = state
        self._lock: anyio.Lock | None = None  # made in the event loop that serves

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == TOKEN_PATH or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)  # tokens and fault knobs are not tenant data
            return
        if scope["method"] in READING_METHODS:
            self.state.refresh(self.tenant)
            await self.app(scope, receive, send)
            return
        if self._lock is None:
            self._lock = anyio.Lock()
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        async with self._lock, self.state.writing():
            self.state.refresh(self.tenant)
            try:
                await self.app(scope, receive, hold)
                self.state.save(self.tenant)
            except BaseException:
                self.state.discard_changes(self.tenant)  # memory must not run ahead of the file
                raise
        for message in held:
            await send(message)
