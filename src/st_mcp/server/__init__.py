"""The MCP surface: tools, transports. Thin — validate, call one service, shape the output."""

from st_mcp.server.app import create_server

__all__ = ["create_server"]
