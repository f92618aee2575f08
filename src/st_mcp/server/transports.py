"""Running the server on stdio, SSE or streamable HTTP."""

from __future__ import annotations

import ipaddress
from typing import Literal

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

Transport = Literal["stdio", "sse", "http"]
PATHS = {"sse": "/sse", "http": "/mcp"}


class UnsafeListenerError(Exception):
    """An HTTP/SSE listener would be reachable beyond this machine with no authentication."""


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def listen_url(transport: Transport, host: str, port: int) -> str:
    """The URL the listener serves MCP on (the RFC 9728 resource when no public URL is configured)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}{PATHS.get(transport, '/mcp')}"


def listener_refusal(transport: Transport, host: str, *, authenticated: bool) -> str | None:
    """Why this listener must not start, or None. Without auth, anyone who can reach a non-loopback
    port would act with the process's own role, so that is refused rather than warned about."""
    if transport == "stdio" or authenticated or is_loopback(host):
        return None
    return (
        f"refusing to listen on {host} without authentication; configure [auth] api_keys "
        "or a JWKS URL, or listen on 127.0.0.1"
    )


def run(server: MCPServer, transport: Transport, *, host: str, port: int, stateless: bool) -> None:
    refusal = listener_refusal(transport, host, authenticated=server.settings.auth is not None)
    if refusal is not None:
        raise UnsafeListenerError(refusal)
    if transport == "stdio":
        server.run("stdio")
        return
    if transport == "sse":
        # For older agent frameworks; new clients should use streamable HTTP.
        app = server.sse_app(host=host)
    else:
        # stateless: no session affinity needed, so any replica behind a load balancer can answer.
        app = server.streamable_http_app(stateless_http=stateless, host=host)
    listen(app, host, port)


# Longer than load balancers' idle timeouts (60 s is common): the balancer, not the server, closes an idle
# connection, so it never reuses one the server is closing at that instant (a 502 at the balancer; a
# ReadError in a client that pools). uvicorn's default is 5 s.
KEEP_ALIVE_SECONDS = 75


def listen(app: ASGIApp, host: str, port: int) -> None:
    """Serve the app with uvicorn until stopped. Run here rather than by the SDK so that
    ``log_config=None`` leaves uvicorn's lines to our handler (``st_mcp.logs``): one format, JSON when
    stderr is not a terminal."""
    uvicorn.run(
        app, host=host, port=port, log_config=None, log_level="info", timeout_keep_alive=KEEP_ALIVE_SECONDS
    )
