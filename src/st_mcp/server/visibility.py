"""Which tools exist on this server, and which of them a principal sees — filtered in one place.

Like github-mcp-server's inventory filters: the read-only switch and the toolset choice decide which
tools are registered at all (a write tool that is not registered cannot be called, whatever a client
sends); the principal's permissions then decide what ``tools/list`` shows. A call to a tool the
principal may not use is refused by the guard (``guard.py``), so hiding is never the only barrier.
"""

from __future__ import annotations

from typing import Any

from st_mcp.config import Settings
from st_mcp.server.context import AppContext
from st_mcp.server.tools.registry import TOOLS, ToolSpec

_BY_NAME = {spec.name: spec for spec in TOOLS}


def exposed_tools(settings: Settings) -> list[ToolSpec]:
    access = settings.access
    return [
        spec
        for spec in TOOLS
        if not (access.read_only and spec.writes)
        and (access.toolsets is None or spec.toolset in access.toolsets)
    ]


async def hide_tools_the_principal_may_not_call(ctx: Any, call_next: Any) -> Any:
    """Server middleware: ``tools/list`` shows a principal only the tools its role may call."""
    result = await call_next(ctx)
    if ctx.method != "tools/list" or not isinstance(result, dict):
        return result
    app: AppContext = ctx.lifespan_context
    role = app.principal.role
    result["tools"] = [
        tool
        for tool in result.get("tools", [])
        if (spec := _BY_NAME.get(tool.get("name"))) is None
        or app.policy.may_call(role, spec.name, spec.permissions).allowed
    ]
    return result
