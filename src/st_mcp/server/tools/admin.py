"""Admin toolset: what operators and auditors use to read the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from st_mcp.server.arguments import Iso8601Only
from st_mcp.server.guard import app_context
from st_mcp.server.tools.registry import tool
from st_mcp.services.audit import AuditLogPage


@tool(
    "Read the audit log",
    permission="audit.read",
    toolset="admin",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def get_audit_log(
    ctx: Context,
    since: Annotated[datetime | None, Iso8601Only, Field(description="Events at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Iso8601Only, Field(description="Events before (ISO 8601)")] = None,
    principal: Annotated[str | None, Field(description="Only this principal's events, e.g. 'dana'")] = None,
    tool: Annotated[str | None, Field(description="Only calls of this tool, e.g. 'book_job'")] = None,
    outcome: Literal["ok", "denied", "blocked", "error"] | None = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Field(description="next_cursor from the previous page")] = None,
    verify_chain: Annotated[
        bool, Field(description="Also check the whole hash chain (slower on a long trail)")
    ] = False,
) -> AuditLogPage:
    """The audit trail, newest first: every tool call (who, over which transport, with which arguments —
    phones and e-mails masked — the outcome, the reason, the ServiceTitan requests it made) and every
    compliance decision, each with a one-line summary.

    Use for "who took over the Angi lead?", "what did the agent get blocked on today?" (outcome blocked)
    or "show every denied call". Do not use it to read conversations: use get_interaction for that.
    Set verify_chain to confirm no record was edited or deleted.
    """
    app = app_context(ctx)
    return await app.audit.page(
        since=since,
        until=until,
        principal=principal,
        tool=tool,
        outcome=outcome,
        limit=limit,
        cursor=cursor,
        verify_chain=verify_chain,
    )
