"""Conversation toolset: the agent's side of Speed to Lead and inbound conversations."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from st_mcp.server.arguments import INT64_MAX, ZipText
from st_mcp.server.guard import app_context
from st_mcp.server.tools.agent import Phone
from st_mcp.server.tools.registry import tool
from st_mcp.services.interactions.models import (
    CallResult,
    Direction,
    IngestResult,
    MessageChannel,
    MessageResult,
    Outcome,
    StatusResult,
)
from st_mcp.services.interactions.service import MAX_TEXT, MAX_THREAD_TEXT
from st_mcp.services.outreach.models import LeadQueue, SendResult

InteractionId = Annotated[
    str, Field(min_length=1, description="Interaction id from ingest_lead or list_interactions")
]


@tool(
    "Take in a new lead",
    permission="agent.converse",
    toolset="conversation",
    read_only=False,
    destructive=False,
    idempotent=True,
)
async def ingest_lead(
    ctx: Context,
    name: Annotated[str, Field(min_length=1, max_length=200)],
    phone: Phone,
    email: Annotated[str | None, Field(max_length=200)] = None,
    street: Annotated[str | None, Field(max_length=200)] = None,
    city: Annotated[str | None, Field(max_length=100)] = None,
    state: Annotated[str | None, Field(max_length=2)] = None,
    zip: Annotated[
        str | None, ZipText, Field(description="5-digit ZIP; out-of-area leads are dismissed")
    ] = None,
    summary: Annotated[
        str | None, Field(max_length=MAX_TEXT, description="What the lead asked for, as received")
    ] = None,
    source: Annotated[
        str | None, Field(max_length=100, description="Lead source, e.g. Angi, Google LSA, Website")
    ] = None,
    campaign_id: Annotated[
        int | None, Field(gt=0, le=INT64_MAX, description="ServiceTitan campaign for attribution")
    ] = None,
    servicetitan_lead_id: Annotated[int | None, Field(gt=0, le=INT64_MAX)] = None,
) -> IngestResult:
    """Open an interaction for a new lead (Speed to Lead), the moment it arrives.

    Use for every new lead from any source. The same phone within 24 h is a duplicate: you get the
    existing interaction back (duplicate=true) and nothing new is created. A ZIP outside the service
    area is recorded as "Dismissed: Agent" with the reason — do not contact that lead about booking.
    """
    app = app_context(ctx)
    return await app.interactions.ingest_lead(
        app.principal,
        name=name,
        phone=phone,
        email=email,
        street=street,
        city=city,
        state=state,
        zip_code=zip,
        summary=summary,
        source=source,
        campaign_id=campaign_id,
        servicetitan_lead_id=servicetitan_lead_id,
    )


@tool(
    "Get the lead queue",
    permission="agent.converse",
    toolset="conversation",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def get_lead_queue(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=50, description="At most this many items")] = 10,
) -> LeadQueue:
    """What to do now in Speed to Lead: replies waiting for an answer, new leads to text, follow-ups due.

    Use it when you start and after each batch of sends. Each item has the lead's context and whether
    a text may go out now (can_send_now); when it may not, send_window_opens_at says when — do not send
    before then. Finished conversations (booked, opted out, taken over, dismissed) never appear.
    """
    app = app_context(ctx)
    return await app.lead_queue.queue(limit=limit)


@tool(
    "Send a text",
    permission=("agent.converse", "chats.send"),
    toolset="conversation",
    read_only=False,
    destructive=False,
    idempotent=False,
    open_world=True,
)
async def send_message(
    ctx: Context,
    interaction_id: InteractionId,
    text: Annotated[
        str, Field(min_length=1, max_length=1600, description="The text, as the lead will read it")
    ],
) -> SendResult:
    """Text the lead of an interaction, through the compliance gate, and record it in the thread.

    Use for every outbound text. The server refuses — and says why — when the lead opted out, when it
    is outside the lead's quiet hours (the refusal says when the window opens), when the daily touch cap
    is reached, or when a person has taken the conversation over. A refusal is final for now: do not
    rephrase and retry; move on to the next item of get_lead_queue.
    """
    app = app_context(ctx)
    return await app.outreach.send_message(app.principal, interaction_id=interaction_id, text=text)


@tool(
    "Log a message",
    permission=("agent.converse", "chats.send"),
    toolset="conversation",
    read_only=False,
    destructive=False,
    idempotent=False,
    open_world=False,
)
async def log_message(
    ctx: Context,
    direction: Direction,
    text: Annotated[str, Field(min_length=1, max_length=MAX_THREAD_TEXT)],
    interaction_id: InteractionId | None = None,
    phone: Phone | None = None,
    channel: MessageChannel = "sms",
) -> MessageResult:
    """Record a text your platform sent or received, in the interaction's thread.

    Use when your platform delivers SMS itself. Inbound text is checked for opt-out ("STOP",
    "stop texting me"): the interaction becomes Opt-out and nothing more may be sent. Outbound
    messages are refused after a person took the conversation over or the lead opted out.
    """
    app = app_context(ctx)
    return await app.interactions.log_message(
        app.principal,
        interaction_id=interaction_id,
        phone=phone,
        direction=direction,
        text=text,
        channel=channel,
    )


@tool(
    "Log a call",
    permission="agent.converse",
    toolset="conversation",
    read_only=False,
    destructive=False,
    idempotent=False,
    open_world=False,
)
async def log_call(
    ctx: Context,
    direction: Direction,
    transcript: Annotated[str, Field(min_length=1, max_length=MAX_THREAD_TEXT)],
    duration_seconds: Annotated[int, Field(ge=0)],
    interaction_id: InteractionId | None = None,
    phone: Phone | None = None,
    recording_url: Annotated[str | None, Field(max_length=500)] = None,
    outcome: Annotated[
        str | None, Field(max_length=100, description="e.g. booked, voicemail, no answer")
    ] = None,
) -> CallResult:
    """Record the voice leg of an interaction: transcript, recording link, duration, outcome.

    Use after every call the voice agent handled. A caller asking not to be contacted opts them out
    of texts and calls alike.
    """
    app = app_context(ctx)
    return await app.interactions.log_call(
        app.principal,
        interaction_id=interaction_id,
        phone=phone,
        direction=direction,
        transcript=transcript,
        duration_seconds=duration_seconds,
        recording_url=recording_url,
        outcome=outcome,
    )


@tool(
    "Update an interaction",
    permission="agent.converse",
    toolset="conversation",
    read_only=False,
    destructive=False,
    idempotent=True,
    open_world=False,
)
async def update_interaction(
    ctx: Context,
    interaction_id: InteractionId,
    summary: Annotated[
        str | None, Field(max_length=MAX_TEXT, description="The Overview Summary a CSR reads first")
    ] = None,
    outcome: Annotated[Outcome | None, Field(description="Close the conversation this way")] = None,
) -> StatusResult:
    """Keep the Overview Summary current and close conversations you end.

    Use after each meaningful turn to rewrite the summary (who, what they need, what happened, what
    is pending). Bookings and escalations change the status by themselves — use outcome only for
    dismissed, abandoned, failed or terminated conversations.
    """
    app = app_context(ctx)
    return await app.interactions.update(
        app.principal, interaction_id=interaction_id, summary=summary, outcome=outcome
    )
