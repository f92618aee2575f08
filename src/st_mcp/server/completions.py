"""``completion/complete``: values for prompt and resource-template arguments, by argument name.

The doors middleware (``doors.py``) has already checked the principal may use the prompt or template
and, for ``interaction_id``, may view conversations (View Customer Chats) — and audited the request —
before a completer runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.types import CompleteRequestParams, CompleteResult, Completion

from st_mcp.server.context import AppContext
from st_mcp.server.guard import tenant_app

MAX_VALUES = 100  # the spec's cap on values per completion
RECENT = 50  # interactions looked at for an id prefix

Completer = Callable[[AppContext, str], Awaitable[list[str]]]


async def interaction_ids(app: AppContext, value: str) -> list[str]:
    """Recent interactions whose id starts with what was typed; else those whose name, phone or request
    match it (the list is newest first)."""
    typed = value.strip()
    recent = await app.interactions.list(limit=RECENT)
    ids = [item.interaction_id for item in recent.items if item.interaction_id.startswith(typed)]
    if not ids and typed:
        found = await app.interactions.list(search=typed, limit=RECENT)
        ids = [item.interaction_id for item in found.items]
    return ids


async def job_types(app: AppContext, value: str) -> list[str]:
    """Bookable job type names and the configured aliases that contain what was typed."""
    typed = value.strip().casefold()
    names = [job_type.name for job_type in await app.catalog.bookable_job_types()]
    names += sorted(app.settings.booking.job_type_aliases)
    return [name for name in dict.fromkeys(names) if typed in name.casefold()]


async def since_dates(app: AppContext, value: str) -> list[str]:
    """Useful starts of a period, as ISO 8601 dates in the business's time zone."""
    today = app.clock().astimezone(ZoneInfo(app.settings.booking.business_timezone)).date()
    dates = [(today - timedelta(days=days)).isoformat() for days in (0, 1, 7, 30)]
    return [date for date in dates if date.startswith(value.strip())]


COMPLETERS: dict[str, Completer] = {
    "interaction_id": interaction_ids,
    "job_type": job_types,
    "since": since_dates,
}


async def complete(ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams) -> CompleteResult:
    completer = COMPLETERS.get(params.argument.name)
    values = await completer(tenant_app(ctx.lifespan_context), params.argument.value) if completer else []
    return CompleteResult(
        completion=Completion(
            values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES
        )
    )


def register_completions(server: MCPServer) -> None:
    # The low-level registration hands the handler the request context (MCPServer.completion() does
    # not); the SDK then advertises the completions capability.
    server._lowlevel_server.add_request_handler("completion/complete", CompleteRequestParams, complete)
