"""Outermost layer: record every request, then apply the latency and fault-injection knobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import problem_response

if TYPE_CHECKING:
    from .state import SandboxTenant


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
        if self.latency_seconds > 0:
            await anyio.sleep(self.latency_seconds)
        fault = self.tenant.faults.take(method, path)
        if fault is not None:
            if fault.delay_seconds > 0:
                await anyio.sleep(fault.delay_seconds)
            if fault.status >= 400:
                headers: dict[str, str] = {}
                title = None
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                    if fault.status == 429:
                        title = f"Too many requests. Please try again in {fault.retry_after} seconds."
                await problem_response(fault.status, title, headers=headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)
