"""Outermost layer: record every request, then apply the latency and fault-injection knobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import Fault
from .problems import problem_response

if TYPE_CHECKING:
    from .state import SandboxTenant

# Set in the ASGI scope by a server that can drop a request's connection (serve.py); in-process there is
# no connection, so the fault is raised to the caller as the transport error httpx would give.
DROP_CONNECTION = "st_mcp.sandbox.drop_connection"
ADMIN_PREFIX = "/_sandbox/"


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, tenant: SandboxTenant, latency_seconds: float = 0.0) -> None:
        self.app = app
        self.tenant = tenant
        self.latency_seconds = latency_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        # Logged on arrival (token calls, retries and failures included), so tests can count upstream calls.
        self.tenant.request_log.append((method, path))
        if path.startswith(ADMIN_PREFIX):  # the knobs themselves never misbehave
            await self.app(scope, receive, send)
            return
        if self.latency_seconds > 0:
            await anyio.sleep(self.latency_seconds)
        fault = self.tenant.faults.take(method, path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_seconds > 0 and fault.action != "timeout":
            await anyio.sleep(fault.delay_seconds)
        if not fault.fails:
            await self.app(scope, receive, send)  # a slow answer, but an answer
            return
        if fault.when == "after":
            await self.app(scope, receive, _discard)  # served: the tenant changed; the answer is lost
        await _misbehave(fault, scope, receive, send)


async def _discard(message: Message) -> None:
    return None


async def _misbehave(fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
    if fault.action is None:
        headers: dict[str, str] = {}
        title = None
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
            if fault.status == 429:
                title = f"Too many requests. Please try again in {fault.retry_after} seconds."
        await problem_response(fault.status, title, headers=headers)(scope, receive, send)
        return
    if fault.action == "timeout":
        await anyio.sleep(fault.delay_seconds)  # no answer at all, until the caller gives up or this ends
    drop: Callable[[], None] | None = scope.get(DROP_CONNECTION)
    if drop is not None:
        drop()
        await anyio.lowlevel.checkpoint()  # let the server notice the connection is gone before this returns
        return
    if fault.action == "timeout":
        raise httpx.ReadTimeout("the sandbox did not answer (injected timeout)")
    raise httpx.ReadError("connection reset by the sandbox (injected fault)")
