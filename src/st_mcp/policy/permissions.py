"""Permissions and roles (DESIGN §7): which principal may call which tool, decided in one place.

Permission names mirror ServiceTitan's own where they exist — View Customer Chats (chats.view), Send
Message (chats.send), Listen to Call Recording (recordings.listen), Edit Voice Agent Settings
(agent.configure). Roles are named bundles; an operator can change them or add more in config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from st_mcp.policy.identity import AI_ROLES, SYSTEM_ROLE, Principal

PERMISSIONS: dict[str, str] = {
    "customers.read": "Look up customers",
    "customers.write": "Create customers",
    "capacity.read": "See open appointment windows",
    "jobs.read": "Read job status",
    "jobs.book": "Book and reschedule jobs",
    "jobs.cancel": "Cancel jobs",
    "interactions.escalate": "Escalate to a dispatcher",
    "agent.converse": "Converse as the virtual agent",
    "chats.view": "View Customer Chats",
    "chats.send": "Send Message (needed for Takeover)",
    "recordings.listen": "Listen to Call Recording",
    "agent.configure": "Edit Voice Agent Settings",
    "audit.read": "Read the audit trail",
    "invoices.read": "Read invoices (totals, balances, items — never card data)",
    "jobs.note": "Add notes to jobs",
}

_CSR = (
    "customers.read", "customers.write", "capacity.read", "jobs.read", "jobs.book", "jobs.cancel",
    "interactions.escalate", "chats.view", "chats.send", "recordings.listen",
)  # fmt: skip
DEFAULT_ROLES: dict[str, frozenset[str]] = {
    "virtual_agent": frozenset(
        {
            "customers.read",
            "customers.write",
            "capacity.read",
            "jobs.read",
            "jobs.book",
            "interactions.escalate",
            "agent.converse",
            "jobs.note",
        }
    ),
    "csr": frozenset({*_CSR, "jobs.note"}),
    "dispatcher": frozenset({*_CSR, "jobs.note"}),
    "manager": frozenset(PERMISSIONS),
    "auditor": frozenset({"chats.view", "recordings.listen", "jobs.read", "audit.read"}),
}
# invoices.read (DESIGN §4): csr, dispatcher, manager (all), auditor — and the virtual agent too, a choice
# made here: request_invoice is in the agent's tool pack ("what do I owe?"), it returns only number, date,
# totals, balance and items (never card data), and a copy reaches the customer only through send_message
# and its gate. An operator who wants the office alone to discuss money removes it from the role.
for _role in ("virtual_agent", "csr", "dispatcher", "auditor"):
    DEFAULT_ROLES[_role] = DEFAULT_ROLES[_role] | {"invoices.read"}


class RoleSpec(Protocol):
    """A role written as a table in config: its permissions, and whether its principals are AI agents."""

    permissions: list[str]
    ai: bool


RoleOverride = Iterable[str] | RoleSpec


def _permissions(spec: RoleOverride) -> Iterable[str]:
    return spec.permissions if hasattr(spec, "permissions") else spec  # type: ignore[return-value]


def ai_roles(overrides: Mapping[str, RoleOverride]) -> frozenset[str]:
    """The roles whose principals are AI: ``virtual_agent`` unless an operator says otherwise, and every
    role an operator marks ``ai = true`` (their own bots)."""
    roles = set(AI_ROLES)
    for role, spec in overrides.items():
        marked = getattr(spec, "ai", None)
        if marked is True:
            roles.add(role)
        elif marked is False:
            roles.discard(role)
    return frozenset(roles)


def build_roles(overrides: Mapping[str, RoleOverride]) -> dict[str, frozenset[str]]:
    """The default roles with the operator's roles laid over them (a role named again is replaced)."""
    roles = dict(DEFAULT_ROLES)
    for role, spec in overrides.items():
        if role == SYSTEM_ROLE:
            raise ValueError(f"the role name '{SYSTEM_ROLE}' is reserved for the server itself")
        granted = frozenset(_permissions(spec))
        unknown = sorted(granted - set(PERMISSIONS))
        if unknown:
            raise ValueError(f"role '{role}' names unknown permissions: {', '.join(unknown)}")
        roles[role] = granted
    return roles


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


class Policy:
    def __init__(self, roles: Mapping[str, frozenset[str]], ai: Iterable[str] = AI_ROLES) -> None:
        self._roles = dict(roles)
        self._ai = frozenset(ai)

    def identify(self, principal: Principal) -> Principal:
        """The principal with the one fact its role decides beyond permissions: is it an AI agent."""
        return dataclasses.replace(principal, ai=principal.role in self._ai)

    def permissions_of(self, role: str) -> frozenset[str]:
        return self._roles.get(role, frozenset())

    def can(self, role: str, permission: str) -> bool:
        return permission in self.permissions_of(role)

    def may_call(self, role: str, tool: str, needs_any_of: Iterable[str]) -> Decision:
        return self.may(role, f"call {tool}", needs_any_of)

    def may(
        self, role: str, action: str, needs_any_of: Iterable[str], also_needs: Iterable[str] = ()
    ) -> Decision:
        """Whether ``role`` may do ``action`` ("call book_job", "read interaction://{interaction_id}"):
        it needs one of ``needs_any_of`` and every one of ``also_needs``. A door that declares no
        permission is closed (fail safe: forgetting to declare one hides it rather than opening it)."""
        needed, also = tuple(needs_any_of), tuple(also_needs)
        if not needed:
            return Decision(False, f"The role '{role}' may not {action}: it declares no permission.")
        if not any(self.can(role, permission) for permission in needed):
            wording = " or ".join(f"{p} ({PERMISSIONS[p]})" for p in needed)
            return Decision(False, f"The role '{role}' may not {action}: it needs {wording}.")
        missing = [p for p in also if not self.can(role, p)]
        if missing:
            wording = " and ".join(f"{p} ({PERMISSIONS[p]})" for p in missing)
            return Decision(False, f"The role '{role}' may not {action}: it needs {wording}.")
        return Decision(True)


# Completing these arguments lists records, so it also needs the permission that reads them.
ARGUMENT_PERMISSIONS: dict[str, tuple[str, ...]] = {"interaction_id": ("chats.view",)}


def argument_needs(argument: str) -> tuple[str, ...]:
    return ARGUMENT_PERMISSIONS.get(argument, ())
