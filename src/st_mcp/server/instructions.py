"""What ``initialize`` tells the principal: the rules of the road for the toolsets it actually has.

One short paragraph per toolset, included when the principal may call at least one of its tools. On
stdio the principal is the process's (from config), known when the server is built. On HTTP each
request carries its own bearer token; the SDK builds ``initialize`` (and the 2026-07-28
``server/discover``) from fixed options, so a server middleware rewrites ``instructions`` in that
answer for the principal of the request that asked — the one place the SDK lets us speak per principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from st_mcp.policy.permissions import Policy
from st_mcp.server.guard import tenant_app
from st_mcp.server.tools.registry import ToolSpec

OPENING = (
    "You are connected to a home-service contractor's ServiceTitan account through st-mcp. The server "
    "enforces permissions, compliance and an audit trail: a refusal says why and what to do next."
)
NOTHING = "This principal may call no tools here; ask the operator for a role with the permissions needed."

# In the order a reader meets them; the key is the toolset of registry.tool(..., toolset=...).
RULES: dict[str, str] = {
    "agent": (
        "Agent tools: look the caller up first (lookup_customer); offer only windows returned by "
        "get_available_slots and book with book_job using the slot_id unchanged; never invent prices or "
        "availability. Emergencies (gas smell, CO alarm, flooding, no heat in freezing weather) and a "
        "caller who asks for a person or is upset go to escalate_to_dispatcher."
    ),
    "conversation": (
        "Speed to Lead: ingest_lead for every new lead, then work get_lead_queue. Send texts only with "
        "send_message (or log_message when your platform delivers them) and log_call after each call; the "
        "server refuses opted-out numbers, quiet hours, daily caps and conversations a human took over — "
        "respect the refusal. Open every call with the AI disclosure and keep the Overview Summary current "
        "with update_interaction. The prompts speed_to_lead_sms, speed_to_lead_voice and "
        "inbound_receptionist carry the lead's live context."
    ),
    "interactions": (
        "Interactions (CSRs): list_interactions and interaction_stats show the virtual agent's "
        "conversations; get_interaction (or the interaction://{interaction_id} resource) opens one. "
        "takeover_interaction stops the AI for that lead; dismiss_interaction closes it. The "
        "csr_daily_triage and interaction_overview_summary prompts brief you. Phones are masked in lists."
    ),
    "lifecycle": (
        'After the booking: get_technician_eta answers "when is the tech coming?" (first name, window, '
        "tracking link once dispatched — never a technician's phone or full name); add_job_note writes what "
        "the caller wants the technician to know; request_callback asks the office to call back; "
        "emergency_triage decides by rules whether a problem is an emergency — read its safety advice out "
        "and escalate when it says so; get_customer_history gives past jobs, equipment and calls; "
        "survey_post_job asks for a 1–5 rating after a completed job."
    ),
    "revenue": (
        "Revenue: upsell_membership lists the customer's plans and the plans on offer with ServiceTitan's "
        "own prices — offer only those, never on an emergency call, and record_membership_interest for the "
        "office to sign them up. Members' due tune-ups are booked with book_maintenance_visit (not "
        "book_job). get_open_estimates and request_invoice read figures back exactly; never take card "
        "numbers."
    ),
    "admin": (
        "Audit: get_audit_log reads the hash-chained audit trail (every tool call, read, render and "
        "compliance decision, phones and e-mails masked); ask it to verify_chain when integrity matters."
    ),
}


def compose_instructions(policy: Policy, role: str, tools: Sequence[ToolSpec]) -> str:
    usable = {spec.toolset for spec in tools if policy.may_call(role, spec.name, spec.permissions).allowed}
    paragraphs = [RULES[toolset] for toolset in RULES if toolset in usable]
    return "\n\n".join([OPENING, *(paragraphs or [NOTHING])])


class PrincipalInstructions:
    """Server middleware: ``initialize`` and ``server/discover`` answer with the caller's instructions."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tuple(tools)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method not in ("initialize", "server/discover") or ctx.lifespan_context is None:
            return result
        app = tenant_app(ctx.lifespan_context)
        if isinstance(result, dict) and "instructions" in result:
            result["instructions"] = compose_instructions(app.policy, app.principal.role, self._tools)
        return result
