"""The MCP logging capability: ``logging/setLevel``, and the server's own notices sent to the client.

Handshake-era clients (up to 2025-11-25) set a level per connection with ``logging/setLevel``; until
they do, warnings and worse are sent. On 2026-07-28 logging is per request (the request's ``_meta``
opts in) and ``logging/setLevel`` does not exist; the SDK's session applies that gate itself.
What is sent: ``st_mcp.notices`` raised while the client's request is in progress (the guard listens
for every door), e.g. "ServiceTitan is slow or busy; retrying in 2.0 s".
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import EmptyResult, SetLevelRequestParams

from st_mcp.notices import Level, Listener

log = logging.getLogger("st_mcp.client_log")

LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
DEFAULT_LEVEL = "warning"
_STATE_KEY = "st_mcp.log_level"


def _connection_state(session: Any) -> dict[str, Any] | None:
    # Not public API: the session's connection, whose ``state`` the SDK keeps per client connection.
    state = getattr(getattr(session, "_connection", None), "state", None)
    return state if isinstance(state, dict) else None


async def set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
    state = _connection_state(ctx.session)
    if state is not None:
        state[_STATE_KEY] = params.level
    return EmptyResult()


def listener_for(session: Any) -> Listener | None:
    """Send notices to the client behind ``session`` at or above its level (best effort)."""
    if session is None or not hasattr(session, "send_log_message"):
        return None

    async def send(level: Level, message: str) -> None:
        state = _connection_state(session) or {}
        if LEVELS.index(level) < LEVELS.index(state.get(_STATE_KEY, DEFAULT_LEVEL)):
            return
        try:
            with warnings.catch_warnings():  # deprecated at 2026-07-28; still the way for older clients
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await session.send_log_message(level, message, logger="st-mcp")
        except Exception:  # a client that went away must not fail the request
            log.debug("could not send a log message to the client", exc_info=True)

    return send


def register_logging(server: MCPServer) -> None:
    # The SDK's documented way to serve logging/setLevel for handshake-era clients (extension.py):
    # the low-level add_request_handler; with it the SDK advertises the logging capability.
    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
