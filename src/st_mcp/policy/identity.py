"""Who is calling. On stdio the process has one principal, from settings (ST_MCP_PRINCIPAL, ST_MCP_ROLE).

Roles are names here; the permission bundles behind them are the permissions layer's business. What
this module decides is the one fact the takeover rule needs: is the caller the AI or a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from st_mcp.config_tenants import DEFAULT_TENANT

# Roles whose principal is an AI agent by default; an operator marks more with ``ai = true`` in
# ``[access.roles]`` (the policy then says so through ``Principal.ai``).
AI_ROLES = frozenset({"virtual_agent"})
KNOWN_ROLES = ("virtual_agent", "csr", "dispatcher", "manager", "auditor")
# The server itself: webhooks, the leads poller, the automatic HELP and opt-out replies. It holds no
# permissions (it never calls tools) and is not the AI, so the takeover lock does not silence the
# replies carriers require.
SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    ai: bool | None = None  # set by the policy from the role's ``ai`` flag; None: the built-in default
    tenant: str = DEFAULT_TENANT  # whose data the principal reaches (DESIGN §7; [tenants.<name>])

    @property
    def is_ai(self) -> bool:
        return self.ai if self.ai is not None else self.role in AI_ROLES

    @property
    def sender_kind(self) -> str:
        """How this principal appears as the sender of a message: the agent (or the server's own
        automatic replies), or a named human."""
        return "agent" if self.is_ai or self.role == SYSTEM_ROLE else "human"
