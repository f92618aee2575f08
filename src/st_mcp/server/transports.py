"""Running the server on stdio, SSE or streamable HTTP."""

from __future__ import annotations

from typing import Literal

from mcp.server.mcpserver import MCPServer

Transport = Literal["stdio", "sse", "http"]


def run(server: MCPServer, transport: Transport, *, host: str, port: int, stateless: bool) -> None:
    if transport == "stdio":
        server.run("stdio")
    elif transport == "sse":
        # For older agent frameworks; new clients should use streamable HTTP.
        server.run("sse", host=host, port=port)
    else:
        # stateless: no session affinity needed, so any replica behind a load balancer can answer.
        server.run("streamable-http", host=host, port=port, stateless_http=stateless)
