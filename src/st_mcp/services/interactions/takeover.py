"""The takeover lock: once a person takes a conversation over, the AI stops for that lead.

Checked by every path that lets the AI act on a lead — booking, outbound messages, sending — so an
agent cannot get around it by leaving out the interaction id: any interaction linked to the same lead,
customer or phone that is in Takeover blocks it.
"""

from __future__ import annotations

from collections.abc import Iterable

from st_mcp.policy.identity import Principal
from st_mcp.services.errors import Blocked
from st_mcp.services.interactions.statuses import TAKEOVER, group_of
from st_mcp.store.interactions import InteractionRow


def ensure_agent_may_act(
    principal: Principal, linked: Iterable[InteractionRow], action: str, *, conversation: str | None = None
) -> None:
    """Block the AI (``Blocked``, rule ``takeover``) if any linked interaction is in Takeover — or if
    ``conversation`` (the one acted on) was ever taken over: it stays the person's after they book it
    (Converted: Human)."""
    if not principal.is_ai:
        return
    for row in linked:
        if group_of(row.status) == TAKEOVER or (row.id == conversation and row.taken_over_by):
            who = row.taken_over_by or "a person"
            raise Blocked(
                f"{who} has taken over the conversation with {row.name or row.phone or 'this lead'} "
                f"(interaction {row.id}); the virtual agent may not {action} for this lead. "
                "Stop here: the person who took over continues the conversation.",
                rule="takeover",
                interaction_id=row.id,
            )
