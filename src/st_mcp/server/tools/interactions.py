"""Interactions toolset: what CSRs, dispatchers and managers use to review and take over conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from st_mcp.server.arguments import Iso8601Only
from st_mcp.server.guard import app_context
from st_mcp.server.tools.conversation import InteractionId
from st_mcp.server.tools.registry import tool
from st_mcp.services.interactions.models import (
    Channel,
    Goal,
    InteractionDetail,
    InteractionList,
    InteractionStats,
    InteractionType,
    StatusResult,
)


@tool(
    "List interactions",
    permission="chats.view",
    toolset="interactions",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def list_interactions(
    ctx: Context,
    status: Annotated[
        str | None, Field(description="A status ('Active: Hot') or a group ('Escalated')")
    ] = None,
    goal: Goal | None = None,
    channel: Channel | None = None,
    type: InteractionType | None = None,
    escalated_only: bool = False,
    since: Annotated[
        datetime | None, Iso8601Only, Field(description="Leads received at or after (ISO 8601)")
    ] = None,
    until: Annotated[
        datetime | None, Iso8601Only, Field(description="Leads received before (ISO 8601)")
    ] = None,
    search: Annotated[
        str | None, Field(description="Name, phone, request, summary, source or job number")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Field(description="next_cursor from the previous page")] = None,
) -> InteractionList:
    """The Interactions page: every conversation the agent had, newest activity first.

    Use for "what's escalated this morning?" (escalated_only, since) or "find the Angi lead from 7:45"
    (search). Phones are masked; open one with get_interaction for the full thread.
    """
    app = app_context(ctx)
    return await app.interactions.list(
        status=status,
        goal=goal,
        channel=channel,
        kind=type,
        escalated_only=escalated_only,
        since=since,
        until=until,
        search=search,
        limit=limit,
        cursor=cursor,
    )


@tool(
    "Open an interaction",
    permission="chats.view",
    toolset="interactions",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def get_interaction(ctx: Context, interaction_id: InteractionId) -> InteractionDetail:
    """One conversation in full: header with ServiceTitan links, Overview Summary, thread, status history.

    Use before taking over or calling a lead back. Call transcripts and recordings appear only with
    the Listen to Call Recording permission; otherwise a note says they are hidden.
    """
    app = app_context(ctx)
    return await app.interactions.detail(interaction_id, can_hear_calls=app.may_hear_calls)


@tool(
    "Interaction counters",
    permission="chats.view",
    toolset="interactions",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def interaction_stats(
    ctx: Context,
    since: Annotated[datetime | None, Iso8601Only] = None,
    until: Annotated[datetime | None, Iso8601Only] = None,
    goal: Goal | None = None,
) -> InteractionStats:
    """The Interactions counters for a period (default: the last 30 days): Escalated, High Activity,
    Conversations, Response Rate, Conversion Rate, median speed to lead, and counts by status.

    Use for "how is the agent doing this week?". Each counter's exact definition is in the result.
    """
    app = app_context(ctx)
    return await app.interactions.stats(since=since, until=until, goal=goal)


@tool(
    "Take over a conversation",
    permission="chats.send",
    toolset="interactions",
    read_only=False,
    destructive=False,
    idempotent=False,
    open_world=False,
)
async def takeover_interaction(
    ctx: Context, interaction_id: InteractionId, note: Annotated[str | None, Field(max_length=500)] = None
) -> StatusResult:
    """Take a conversation over from the AI: status Takeover, and from then on the virtual agent can
    neither message nor book for this lead — you continue by hand.

    Use when a conversation needs a person. Closed conversations cannot be taken over.
    """
    app = app_context(ctx)
    return await app.interactions.takeover(app.principal, interaction_id=interaction_id, note=note)


@tool(
    "Dismiss an interaction",
    permission="chats.send",
    toolset="interactions",
    read_only=False,
    destructive=True,
    idempotent=False,
    open_world=False,
)
async def dismiss_interaction(
    ctx: Context, interaction_id: InteractionId, reason: Annotated[str, Field(min_length=1)]
) -> StatusResult:
    """Close a conversation as not worth pursuing (spam, wrong number, duplicate): status Dismissed: Human.

    Use for leads that should get no further contact. It cannot be undone except by the lead opting back in.
    """
    app = app_context(ctx)
    return await app.interactions.dismiss(app.principal, interaction_id=interaction_id, reason=reason)
