"""``create_server``: the one factory that turns settings into an MCP server."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import anyio
from anyio.abc import TaskGroup
from mcp.server.mcpserver import MCPServer
from mcp.types import Icon

from st_mcp import __version__
from st_mcp.config import Settings
from st_mcp.messaging.gateway import Gateway
from st_mcp.policy.permissions import Policy, build_roles
from st_mcp.server.arguments import ArgumentCheckedTool
from st_mcp.server.auth import build_verifier, sdk_auth_settings
from st_mcp.server.client_log import register_logging
from st_mcp.server.completions import register_completions
from st_mcp.server.context import AppContext
from st_mcp.server.doors import Doors
from st_mcp.server.guard import guarded
from st_mcp.server.instructions import PrincipalInstructions, compose_instructions
from st_mcp.server.lead_feed import LeadQueueFeed
from st_mcp.server.operations import register_operations
from st_mcp.server.prompts import register_prompts
from st_mcp.server.resources import register_resources
from st_mcp.server.shared import SharedAppContext
from st_mcp.server.tenants import Tenants, open_tenants
from st_mcp.server.tools import (  # noqa: F401 - importing registers them
    admin,
    agent,
    conversation,
    interactions,
    lifecycle,
    revenue,
)
from st_mcp.server.visibility import ToolVisibility, deployment_tools
from st_mcp.server.webhooks import register_webhooks
from st_mcp.services.lifecycle.watcher import watch_forever
from st_mcp.services.outreach.poller import poll_forever
from st_mcp.services.periodic import Leader
from st_mcp.services.revenue.conversions import check_forever
from st_mcp.services.revenue.estimates import sweep_forever
from st_mcp.services.revenue.reminders import remind_forever
from st_mcp.upstream import Upstream

TITLE = "st-mcp — ServiceTitan agent"
WEBSITE_URL = "https://pypi.org/project/st-mcp/"  # where the package is published
# A small inline SVG (a speech bubble over a wrench-orange square): no network fetch, no tracking.
ICON = Icon(
    src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA2NCA2NCI+"
    "PHJlY3Qgd2lkdGg9IjY0IiBoZWlnaHQ9IjY0IiByeD0iMTIiIGZpbGw9IiNlODZhMWUiLz48cGF0aCBkPSJNMTQgMThoMzZhNCA0IDAg"
    "MCAxIDQgNHYxOGE0IDQgMCAwIDEtNCA0SDI4bC0xMCA4di04aC00YTQgNCAwIDAgMS00LTRWMjJhNCA0IDAgMCAxIDQtNHoiIGZpbGw9"
    "IiNmZmYiLz48L3N2Zz4=",
    mime_type="image/svg+xml",
    sizes=["any"],
)

# The RFC 9728 resource when neither [auth].public_url nor the listener's URL is given.
DEFAULT_RESOURCE_URL = "http://127.0.0.1:8000/mcp"


def start_background_work(background: TaskGroup, tenant: str, app: AppContext) -> None:
    """One tenant's background work, on the long-running HTTP server: once across replicas (a lease per
    job and tenant in the shared store; the leads poller and the job watcher take their own)."""
    settings = app.settings
    repeating: list[tuple[str, Any, object, float]] = [
        ("booking-conversions", check_forever, app.revenue.conversions,
         settings.booking.conversion_poll_interval_seconds),
        ("estimate-sweep", sweep_forever, app.revenue.estimates,
         settings.revenue.estimate_poll_interval_seconds),
        ("maintenance-sweep", remind_forever, app.revenue.reminders,
         settings.revenue.reminder_poll_interval_seconds),
    ]  # fmt: skip
    for job, run, service, interval in repeating:
        if interval > 0:
            leader = Leader(
                app.store.engine, f"{job}:{tenant}", settings.leader_ttl_seconds, tenant=app.store.tenant
            )
            background.start_soon(partial(run, service, interval, leader=leader))
    if settings.leads.poll_interval_seconds > 0:  # the poller takes its own lease (leads-poller:<tenant>)
        background.start_soon(poll_forever, app.lead_poller, settings.leads.poll_interval_seconds)
    if settings.lifecycle.watch_jobs_seconds > 0:
        background.start_soon(watch_forever, app.lifecycle.watcher, settings.lifecycle.watch_jobs_seconds)


def create_server(
    settings: Settings,
    *,
    upstream: Upstream | None = None,
    gateway: Gateway | None = None,
    resource_url: str | None = None,
    poll_leads: bool = False,
) -> MCPServer:
    """Build the server; the lifespan opens ServiceTitan and the store when a client connects.

    ``resource_url`` is where the listener serves MCP (``http://host:port/mcp``); with ``[auth]``
    configured it is the RFC 9728 resource unless ``[auth].public_url`` names the public one.
    ``gateway``: an SMS gateway the caller owns (the demo's sandbox outbox), instead of the configured one.
    ``poll_leads``: poll ServiceTitan for new leads in the background (the long-running HTTP server).
    """

    shared = SharedAppContext(lambda: open_tenants(settings, upstream, gateway))
    feed = LeadQueueFeed()

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[Tenants]:
        async with shared.use() as tenants, anyio.create_task_group() as background:
            for name, app in tenants:
                if feed.hook(name) not in app.interactions.on_queue_changed:
                    app.interactions.on_queue_changed.append(feed.hook(name))
                if poll_leads:
                    start_background_work(background, name, app)
            yield tenants
            background.cancel_scope.cancel()

    resource = resource_url or DEFAULT_RESOURCE_URL
    verifier = build_verifier(settings, resource)  # None: no [auth], so stdio / loopback only
    specs = deployment_tools(settings)
    tools = [
        ArgumentCheckedTool.from_function(
            guarded(spec.fn, spec.permissions),
            name=spec.name,
            title=spec.title,
            description=inspect.cleandoc(spec.fn.__doc__ or ""),
            annotations=spec.annotations,
            structured_output=True,
        )
        for spec in specs
    ]
    # The process principal's instructions (stdio); on HTTP PrincipalInstructions answers per request.
    policy = Policy(build_roles(settings.access.roles))
    server = MCPServer(
        "st-mcp",
        title=TITLE,
        version=__version__,
        website_url=WEBSITE_URL,
        icons=[ICON],
        instructions=compose_instructions(policy, settings.identity.role, specs),
        lifespan=lifespan,
        token_verifier=verifier,
        auth=sdk_auth_settings(settings.auth, resource) if verifier is not None else None,
        tools=tools,
        subscriptions=feed.bus,
    )
    doors = Doors()
    server.middleware.append(PrincipalInstructions(specs))
    server.middleware.append(ToolVisibility(specs))
    server.middleware.append(doors)
    register_prompts(server, settings, doors)
    register_resources(server, doors)
    feed.register(server, doors)
    register_completions(server)
    register_logging(server)
    register_webhooks(server, settings, shared)
    register_operations(server, shared, verifier)
    return server
