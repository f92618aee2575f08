"""Revenue toolset: memberships, maintenance visits, open estimates and invoices — only what ServiceTitan
holds, in words the agent can say.

Each tool reads like a sentence: check arguments → call one service → return its pydantic result.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from st_mcp.server.arguments import INT64_MAX
from st_mcp.server.guard import app_context
from st_mcp.server.tools.agent import CustomerId, SlotId
from st_mcp.server.tools.registry import tool
from st_mcp.services.revenue.estimates import OpenEstimatesResult
from st_mcp.services.revenue.invoices import InvoiceResult
from st_mcp.services.revenue.maintenance import MaintenanceResult
from st_mcp.services.revenue.memberships import InterestResult, UpsellResult

InteractionId = Annotated[str | None, Field(description="The conversation this belongs to")]


@tool(
    "Memberships: held and on offer",
    permission="customers.read",
    toolset="revenue",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def upsell_membership(ctx: Context, customer_id: CustomerId) -> UpsellResult:
    """The customer's memberships (and what each includes) and the membership plans on offer, with
    ServiceTitan's own prices, visits per year and discounts.

    Use after lookup_customer when a membership fits the conversation: a member calling about a tune-up, a
    repair a plan's discount would cover. Offer only the plans listed here, at exactly these prices — never
    invent a plan, price or discount. Never on an emergency call (gas smell, CO alarm, flooding, no heat in
    freezing weather). If they are interested, record_membership_interest; you do not sign anyone up.
    """
    app = app_context(ctx)
    return await app.revenue.memberships.upsell(customer_id)


@tool(
    "Record membership interest",
    permission="customers.write",
    toolset="revenue",
    read_only=False,
    destructive=False,
    idempotent=False,
)
async def record_membership_interest(
    ctx: Context,
    customer_id: CustomerId,
    note: Annotated[str, Field(min_length=1, description="What the customer said, in a sentence or two")],
    membership_type_id: Annotated[
        int | None,
        Field(gt=0, le=INT64_MAX, description="The plan they asked about, from upsell_membership"),
    ] = None,
    interaction_id: InteractionId = None,
) -> InterestResult:
    """Create a sales follow-up in ServiceTitan (a task, or a CRM lead, as configured) for a customer
    interested in a membership, so the office calls them to sign up.

    Use once the customer says yes or wants to hear more after upsell_membership. Do not use to sign them
    up or to promise a price other than the ones upsell_membership listed; call it once per conversation.
    """
    app = app_context(ctx)
    return await app.revenue.memberships.record_interest(
        customer_id=customer_id,
        membership_type_id=membership_type_id,
        note=note,
        interaction_id=interaction_id,
        principal=app.principal,
    )


@tool(
    "Book a member's maintenance visit",
    permission="jobs.book",
    toolset="revenue",
    read_only=False,
    destructive=False,
    idempotent=True,
)
async def book_maintenance_visit(
    ctx: Context,
    customer_id: CustomerId,
    location_id: Annotated[
        int | None, Field(gt=0, le=INT64_MAX, description="Service location; default the membership's")
    ] = None,
    slot_id: Annotated[
        SlotId | None, Field(description="A slot_id this tool offered; leave out to see what is due")
    ] = None,
    event_id: Annotated[
        int | None, Field(gt=0, le=INT64_MAX, description="Which due tune-up, when several are due")
    ] = None,
    idempotency_key: Annotated[str | None, Field(max_length=200)] = None,
    interaction_id: InteractionId = None,
) -> MaintenanceResult:
    """A member's due tune-ups (recurring service events in the next month) and real windows for them;
    called again with the chosen slot_id, it books the visit and links it to the tune-up in ServiceTitan.

    Use for members (upsell_membership or lookup_customer shows the membership). First call without
    slot_id: offer 2–3 of the returned windows. Then call with the slot_id the customer chose. It books
    through the same path as book_job — the window is re-checked, and a retry with the same
    idempotency_key (default: one per tune-up) never makes a second job. Not for non-members or for
    repairs: use get_available_slots and book_job.
    """
    app = app_context(ctx)
    return await app.revenue.maintenance.visit(
        customer_id=customer_id,
        location_id=location_id,
        slot_id=slot_id,
        event_id=event_id,
        idempotency_key=idempotency_key,
        interaction_id=interaction_id,
        principal=app.principal,
    )


@tool(
    "Open estimates",
    permission="customers.read",
    toolset="revenue",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def get_open_estimates(ctx: Context, customer_id: CustomerId) -> OpenEstimatesResult:
    """The customer's open (unsold) estimates: name, summary, total, status, and who presented them.

    Use when the customer mentions a quote, or in an Estimate Follow-up conversation before you text.
    Quote totals exactly as listed — never discount, re-price or change the scope; if they want to go
    ahead or change it, escalate_to_dispatcher so the office sells it.
    """
    app = app_context(ctx)
    return await app.revenue.estimates.open_for(customer_id)


@tool(
    "Read an invoice",
    permission="invoices.read",
    toolset="revenue",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def request_invoice(
    ctx: Context,
    job_id: Annotated[int | None, Field(gt=0, le=INT64_MAX, description="The job the invoice is for")] = None,
    invoice_id: Annotated[
        int | None, Field(gt=0, le=INT64_MAX, description="ServiceTitan invoice id")
    ] = None,
) -> InvoiceResult:
    """An invoice's number, date, total, balance due and items, in plain words.

    Use when a customer asks what they owe or what a visit cost. Give job_id or invoice_id. To text them a
    copy, pass the summary to send_message (the compliance gate applies). Never ask for, repeat or take
    card numbers — payments go through the office.
    """
    app = app_context(ctx)
    return await app.revenue.invoices.read(job_id=job_id, invoice_id=invoice_id)
