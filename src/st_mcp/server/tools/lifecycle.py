"""Lifecycle toolset: after the booking — where the technician is, notes for the technician, callbacks,
emergency triage, the customer's history and the post-job follow-up."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from st_mcp.server.arguments import INT64_MAX, NumberAsText
from st_mcp.server.guard import app_context
from st_mcp.server.tools.agent import CustomerId, JobId, Phone
from st_mcp.server.tools.registry import tool
from st_mcp.services.lifecycle.callbacks import MAX_REASON, MAX_WINDOW, CallbackResult
from st_mcp.services.lifecycle.history import CustomerHistory
from st_mcp.services.lifecycle.jobs import MAX_NOTE, AddedNote, EtaResult
from st_mcp.services.lifecycle.survey import SurveyResult
from st_mcp.services.lifecycle.triage import MAX_DESCRIPTION, TriageResult

InteractionId = Annotated[str | None, Field(max_length=40, description="The conversation this is about")]


@tool(
    "When is the technician coming?",
    permission="jobs.read",
    toolset="lifecycle",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def get_technician_eta(
    ctx: Context,
    job_id: Annotated[int | None, Field(gt=0, le=INT64_MAX)] = None,
    job_number: Annotated[
        str | None, NumberAsText, Field(description="Job number as the customer has it")
    ] = None,
    phone: Phone | None = None,
) -> EtaResult:
    """The next visit: its status, arrival window, the technician's first name and — once dispatched —
    the live tracking link and an arrival estimate, in words a customer understands.

    Use when a caller asks "when is the tech coming?", "is someone on the way?". Give job_id, job_number
    or the caller's phone (their next open visit). Never read out a technician's phone number or last
    name; the result never contains them. Do not use to move the visit (reschedule_job).
    """
    app = app_context(ctx)
    return await app.lifecycle.jobs.eta(job_id=job_id, job_number=job_number, phone=phone, now=app.clock())


@tool(
    "Add a note to a job",
    permission="jobs.note",
    toolset="lifecycle",
    read_only=False,
    destructive=False,
    idempotent=False,
)
async def add_job_note(
    ctx: Context,
    job_id: JobId,
    text: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_NOTE,
            description="What the technician should know, e.g. 'gate code 4411, dog in the yard'",
        ),
    ],
) -> AddedNote:
    """Write what the caller wants the technician to know onto the job (pinned, signed by the agent).

    Use for access details (gate codes, pets, parking), symptoms the caller adds after booking, or
    "call before you come". Do not use for complaints or requests a person must act on
    (request_callback, escalate_to_dispatcher), and never for card numbers or passwords.
    """
    app = app_context(ctx)
    return await app.lifecycle.jobs.add_note(job_id=job_id, text=text, principal=app.principal)


@tool(
    "Request a callback",
    permission="interactions.escalate",
    toolset="lifecycle",
    read_only=False,
    destructive=False,
    idempotent=False,
)
async def request_callback(
    ctx: Context,
    reason: Annotated[
        str, Field(min_length=1, max_length=MAX_REASON, description="What the caller wants to talk about")
    ],
    interaction_id: InteractionId = None,
    phone: Phone | None = None,
    preferred_window: Annotated[
        str | None, Field(max_length=MAX_WINDOW, description="When the caller prefers, e.g. 'after 5 PM'")
    ] = None,
) -> CallbackResult:
    """Ask the office to call the customer back: a ServiceTitan task a CSR sees, linked to the conversation.

    Use when the caller wants a person to call them later about something that is not urgent (a quote
    question, billing, "call me when you know more"). Give interaction_id or phone. Not for emergencies
    or an upset caller who wants a person now — use escalate_to_dispatcher for those.
    """
    app = app_context(ctx)
    return await app.lifecycle.callbacks.request(
        reason=reason,
        interaction_id=interaction_id,
        phone=phone,
        preferred_window=preferred_window,
        principal=app.principal,
    )


@tool(
    "Triage an emergency",
    permission="agent.converse",
    toolset="lifecycle",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def emergency_triage(
    ctx: Context,
    description: Annotated[
        str,
        Field(min_length=1, max_length=MAX_DESCRIPTION, description="The problem in the caller's own words"),
    ],
    interaction_id: InteractionId = None,
) -> TriageResult:
    """Decide by the operator's rules — not by judgement — whether a problem is an emergency.

    Use as soon as a caller describes the problem, before offering windows. Returns level
    (emergency | urgent | routine), the safety advice to read out word for word, the priority to book
    with, whether to escalate now, and the rule that matched. When escalate_now is true: read the advice,
    then escalate_to_dispatcher; do not book a routine window.
    """
    app = app_context(ctx)
    if interaction_id is not None:  # the decision is filed with a conversation of the caller's own
        interaction_id = (await app.interactions.row(interaction_id)).id
    result = app.lifecycle.triage.assess(description)
    principal = app.principal
    await app.audit.record_decision(
        "compliance",
        principal=principal.name,
        role=principal.role,
        name=f"triage.{result.rule}",
        outcome="ok",
        reason=f"{result.level}: {result.rule}",
        interaction_id=interaction_id,
        details={
            "level": result.level,
            "priority": result.priority,
            "escalate_now": result.escalate_now,
            "matched": result.matched,
            "temperature_f": result.temperature_f,
        },
    )
    return result.model_copy(update={"interaction_id": interaction_id})


@tool(
    "Get a customer's history",
    permission="customers.read",
    toolset="lifecycle",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def get_customer_history(ctx: Context, customer_id: CustomerId) -> CustomerHistory:
    """Past jobs with their notes, installed equipment (make, model, age), recent calls and the number of
    open estimates — the context for a returning customer, in one call.

    Use after lookup_customer when the caller refers to earlier work ("same problem as last winter") or
    equipment. Do not quote prices from estimates; a CSR follows up on those.
    """
    app = app_context(ctx)
    return await app.lifecycle.history.history(customer_id)


@tool(
    "Send the post-job follow-up",
    permission="agent.converse",
    toolset="lifecycle",
    read_only=False,
    destructive=False,
    idempotent=False,
)
async def survey_post_job(ctx: Context, job_id: JobId) -> SurveyResult:
    """Text the customer of a completed job asking for a 1–5 rating (a new Post-Job Follow-up conversation).

    The server records the reply itself: the rating goes to ServiceTitan as the technician's rating, 4–5
    get the review link, 1–2 go to a manager. The text passes the compliance gate (quiet hours, opt-out).
    The server also sends this automatically when a job it booked completes — use this only when asked.
    """
    app = app_context(ctx)
    return await app.lifecycle.survey.start(job_id, app.principal)
