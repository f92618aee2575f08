"""st-mcp: a ServiceTitan MCP server for SMS and voice agents, with server-side guarantees."""

__version__ = "0.1.0"
