"""``lead-queue://now``: the lead queue as a resource an agent subscribes to instead of polling.

Speed to Lead is measured in seconds, and an agent that polls ``get_lead_queue`` every minute wastes
most of them. The moment the queue gains work (a new lead to text, a reply waiting for an answer) the
server says so: ``notifications/resources/updated`` on the 2026-07-28 wire through the SDK's
``subscriptions/listen`` bus, and to each session of the 2025-11-25 wire that sent
``resources/subscribe``. The notification carries no content; the agent reads the resource (or calls
``get_lead_queue``), through the guard, with its own permissions.

Subscribing passes the same door as reading (``doors.py``): a principal who may not read the queue
cannot subscribe to it either.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from weakref import WeakSet

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources.base import Resource
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from st_mcp.config_tenants import DEFAULT_TENANT
from st_mcp.server.doors import Doors, current_app

LEAD_QUEUE_URI = "lead-queue://now"
QUEUE_LIMIT = 25
log = logging.getLogger(__name__)


class LeadQueueResource(Resource):
    async def read(self) -> str:
        app = current_app()
        if app is None:
            raise ResourceError("The lead queue can only be read over an MCP connection.")
        queue = await app.lead_queue.queue(limit=QUEUE_LIMIT)
        return json.dumps(queue.model_dump(mode="json"), indent=2)


class LeadQueueFeed:
    """Tells subscribers, on both protocol eras, that the lead queue changed."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        # Connections that sent resources/subscribe for the queue, by the subscriber's tenant; weak, so a
        # client that goes away without unsubscribing is forgotten with its connection.
        self._legacy: dict[str, WeakSet[Any]] = {}
        self._hooks: dict[str, Callable[[], Awaitable[None]]] = {}

    def hook(self, tenant: str) -> Callable[[], Awaitable[None]]:
        """The one callable that tells ``tenant``'s subscribers (the same object on every call, so a
        tenant's services that outlive a connection are hooked once)."""
        if tenant not in self._hooks:
            self._hooks[tenant] = partial(self.changed, tenant)
        return self._hooks[tenant]

    async def changed(self, tenant: str = DEFAULT_TENANT) -> None:
        # The 2026-07-28 bus is the SDK's, one per server: its notification carries no content, and the
        # woken agent reads its own tenant's queue through the guard.
        await self.bus.publish(ResourceUpdated(uri=LEAD_QUEUE_URI))
        connections = self._legacy.get(tenant, WeakSet())
        for connection in list(connections):
            try:
                await connection.send_resource_updated(LEAD_QUEUE_URI)
            except Exception as exc:  # a closed connection: forget it, tell the others
                log.info("lead queue subscriber gone (%s); dropped", type(exc).__name__)
                connections.discard(connection)

    async def _subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        if str(params.uri) == LEAD_QUEUE_URI:
            self._legacy.setdefault(_tenant(), WeakSet()).add(_connection(ctx))
        return EmptyResult()  # other resources never change under a subscriber: nothing to send

    async def _unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        if str(params.uri) == LEAD_QUEUE_URI:
            self._legacy.get(_tenant(), WeakSet()).discard(_connection(ctx))
        return EmptyResult()

    def register(self, server: MCPServer, doors: Doors) -> None:
        """Publish the resource, and serve resources/subscribe for 2025-11-25 clients."""
        doors.resource(LEAD_QUEUE_URI, "agent.converse")
        server.add_resource(
            LeadQueueResource(
                uri=LEAD_QUEUE_URI,
                name="lead_queue",
                title="Lead queue (subscribe)",
                description="What the Speed to Lead agent should do now, as get_lead_queue returns it. "
                "Subscribe to it: notifications/resources/updated arrives the moment a lead or a reply "
                "comes in, so there is no need to poll.",
                mime_type="application/json",
            )
        )
        lowlevel = server._lowlevel_server
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)


def _tenant() -> str:
    """The subscriber's tenant: its token's, or the stdio process's (the lifespan knows which)."""
    app = current_app()
    return app.settings.identity.tenant or DEFAULT_TENANT if app is not None else DEFAULT_TENANT


def _connection(ctx: Any) -> Any:
    """The connection behind a request: ``ctx.session`` is a per-request proxy that dies with the request,
    while a subscription must outlive it (the SDK keeps no public handle on it)."""
    return ctx.session._connection
