"""Which tools exist on this server, and which of them a principal sees — filtered in one place.

Like github-mcp-server's inventory filters: the read-only switch and the toolset choice decide which
tools are registered at all (a write tool that is not registered cannot be called, whatever a client
sends); the principal's permissions then decide what ``tools/list`` shows. A call to a tool the
principal may not use is refused by the guard (``guard.py``), so hiding is never the only barrier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from st_mcp.config import Settings
from st_mcp.server.guard import tenant_app
from st_mcp.server.tools.registry import TOOLS, ToolSpec
from st_mcp.services.bounds import quoted


def exposed_tools(settings: Settings) -> list[ToolSpec]:
    """The tools one tenant's ``[access]`` exposes."""
    access = settings.access
    return [
        spec
        for spec in TOOLS
        if not (access.read_only and spec.writes)
        and (access.toolsets is None or spec.toolset in access.toolsets)
    ]


def deployment_tools(settings: Settings) -> list[ToolSpec]:
    """The tools any tenant exposes: what the server registers (each tenant then sees its own)."""
    names = {spec.name for own in settings.tenant_settings().values() for spec in exposed_tools(own)}
    return [spec for spec in TOOLS if spec.name in names]


class ToolVisibility:
    """Server middleware: ``tools/list`` shows a principal only the tools its role may call, and a call
    to a tool this server does not expose is a protocol error (-32602, as the spec says), not a result."""

    def __init__(self, exposed: Sequence[ToolSpec]) -> None:
        self._exposed = {spec.name: spec for spec in exposed}
        self._by_tenant: dict[str, dict[str, ToolSpec]] = {}

    def _tenants_own(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, ToolSpec]:
        """What the caller's tenant exposes (its own read-only switch and toolsets)."""
        settings = tenant_app(ctx.lifespan_context).settings
        tenant = settings.identity.tenant or ""
        if tenant not in self._by_tenant:
            self._by_tenant[tenant] = {
                spec.name: spec for spec in exposed_tools(settings) if spec.name in self._exposed
            }
        return self._by_tenant[tenant]

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call":
            name = (ctx.params or {}).get("name")
            if isinstance(name, str) and name not in self._tenants_own(ctx):
                raise MCPError(
                    code=INVALID_PARAMS,
                    message=f"Unknown tool {quoted(name)}. tools/list names the tools you may call.",
                )
        result = await call_next(ctx)
        if ctx.method != "tools/list" or not isinstance(result, dict):
            return result
        app, own = tenant_app(ctx.lifespan_context), self._tenants_own(ctx)
        role = app.principal.role
        result["tools"] = [
            tool
            for tool in result.get("tools", [])
            if (spec := own.get(tool.get("name"))) is not None
            and app.policy.may_call(role, spec.name, spec.permissions).allowed
        ]
        return result
