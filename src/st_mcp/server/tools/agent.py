"""Agent toolset: what an SMS or voice agent needs to book a caller into real capacity.

Each tool reads like a sentence: check arguments → call one service → return its pydantic result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from st_mcp.server.arguments import INT64_MAX, Iso8601Only, NumberAsText, ZipText
from st_mcp.server.guard import app_context
from st_mcp.server.tools.registry import tool
from st_mcp.services.availability import SlotOffer, Urgency
from st_mcp.services.booking import BookingResult, CancelResult, JobStatusResult, RescheduleResult
from st_mcp.services.customers import LOOKUP_SECTIONS, CreatedCustomerResult, LookupResult, LookupSection
from st_mcp.services.errors import UserInputError
from st_mcp.services.escalation import EscalationReason, EscalationResult

Phone = Annotated[
    str, NumberAsText, Field(description="US phone number in any common format, e.g. (303) 555-0142")
]
CustomerId = Annotated[
    int, Field(gt=0, le=INT64_MAX, description="ServiceTitan customer id from lookup_customer")
]
LocationId = Annotated[
    int, Field(gt=0, le=INT64_MAX, description="ServiceTitan location id of that customer")
]
JobId = Annotated[int, Field(gt=0, le=INT64_MAX, description="ServiceTitan job id")]
SlotId = Annotated[str, Field(min_length=1, description="slot_id exactly as returned by get_available_slots")]


@tool(
    "Look up a customer",
    permission="customers.read",
    toolset="agent",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def lookup_customer(
    ctx: Context,
    phone: Phone | None = None,
    name: Annotated[str | None, Field(description="Customer name, or part of it")] = None,
    email: Annotated[str | None, Field(description="E-mail address on file")] = None,
    include: Annotated[
        list[LookupSection] | None,
        Field(
            max_length=len(LOOKUP_SECTIONS),
            description=(
                "Extra sections, fetched at the same time: 'appointments' (upcoming visits — when the "
                "caller asks about one), 'recent_jobs', 'memberships'. Leave out for a fast lookup."
            ),
        ),
    ] = None,
) -> LookupResult:
    """Find the caller in ServiceTitan by phone (best), name or e-mail.

    Use this first on every call or text, before offering windows or booking: it returns each
    matching customer with phones, e-mails, locations (and whether each is in the service area) and
    the do-not-service flag, plus the caller's phone in E.164. Ask for include=["appointments"] when
    the caller may be calling about a visit already booked, "recent_jobs" for a repeat problem, and
    "memberships" before talking about a plan; sections not asked for come back as null.
    Do not use it to create anyone — use create_customer when nothing matches.
    """
    app = app_context(ctx)
    return await app.customers.lookup(
        phone=phone, name=name, email=email, now=app.clock(), include=include or ()
    )


@tool(
    "Create a customer",
    permission="customers.write",
    toolset="agent",
    read_only=False,
    destructive=False,
    idempotent=True,
)
async def create_customer(
    ctx: Context,
    name: Annotated[str, Field(min_length=1, description="Full name as the caller gives it")],
    phone: Phone,
    street: Annotated[str, Field(min_length=1, description="Service address street and number")],
    city: Annotated[str, Field(min_length=1)],
    state: Annotated[str, Field(min_length=2, max_length=2, description="Two-letter state, e.g. CO")],
    zip: Annotated[str, ZipText, Field(description="5-digit ZIP of the service address")],
    email: Annotated[str | None, Field(description="E-mail, if the caller offers one")] = None,
    unit: Annotated[str | None, Field(description="Apartment or unit")] = None,
) -> CreatedCustomerResult:
    """Create a new customer with their service location in ServiceTitan.

    Use only after lookup_customer found no match. Safe to repeat: when the same person (same
    phone and name) already exists it returns them with created=false instead of a duplicate, and
    adds the address as a new location if it is new. Check in_service_area before offering windows.
    """
    app = app_context(ctx)
    return await app.customers.create(
        name=name, phone=phone, email=email, street=street, unit=unit, city=city, state=state, zip_code=zip
    )


@tool(
    "Find open appointment windows",
    permission="capacity.read",
    toolset="agent",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def get_available_slots(
    ctx: Context,
    job_type: Annotated[
        str, Field(min_length=1, description="Job type id, name, or alias such as 'no heat'")
    ],
    location_id: Annotated[
        int | None, Field(gt=0, le=INT64_MAX, description="Service location (preferred)")
    ] = None,
    zip: Annotated[
        str | None, ZipText, Field(description="Service ZIP when there is no location yet")
    ] = None,
    earliest: Annotated[
        datetime | None, Iso8601Only, Field(description="Not before (ISO 8601); default now")
    ] = None,
    latest: Annotated[
        datetime | None, Iso8601Only, Field(description="Not after (ISO 8601); default a week out")
    ] = None,
    urgency: Annotated[Urgency, Field(description="routine, soon (2 days) or emergency (24 h)")] = "routine",
    max_slots: Annotated[int, Field(ge=1, le=10)] = 3,
) -> SlotOffer:
    """Real bookable arrival windows from ServiceTitan capacity, spread across days.

    Use this before book_job and offer the caller 2–3 of the returned windows by their label; never
    invent or promise a window that is not in this list. Each slot has a slot_id that book_job
    verifies, so pass it unchanged. When there are no slots, the explanation says why and what to do.
    Do not use for emergencies that endanger people (gas smell, CO alarm, flooding): escalate instead.
    """
    app = app_context(ctx)
    if location_id is None and not zip:
        raise UserInputError("Give location_id (from lookup_customer) or the service zip.")
    # Progress for a client that sent a progressToken (a no-op otherwise): capacity spans several days.
    await ctx.report_progress(0, 3, "checking the job type and the service area")
    resolved = await app.catalog.job_type(job_type)
    if location_id is not None:
        zip = (await app.customers.location(location_id)).address.zip
    area = await app.catalog.require_in_area(str(zip))
    await ctx.report_progress(1, 3, "reading ServiceTitan capacity across the coming days")
    offer = await app.availability.offer(
        resolved,
        area.zip,
        location_id=location_id,
        now=app.clock(),
        earliest=earliest,
        latest=latest,
        urgency=urgency,
        max_slots=max_slots,
    )
    await ctx.report_progress(3, 3, f"{len(offer.slots)} window(s) found")
    return offer


@tool(
    "Book a job", permission="jobs.book", toolset="agent", read_only=False, destructive=False, idempotent=True
)
async def book_job(
    ctx: Context,
    customer_id: CustomerId,
    location_id: LocationId,
    slot_id: SlotId,
    summary: Annotated[str, Field(min_length=1, description="What the customer needs, in a sentence or two")],
    priority: Annotated[str | None, Field(pattern="^(Low|Normal|High|Urgent)$")] = None,
    interaction_id: Annotated[
        str | None, Field(description="The conversation this booking belongs to")
    ] = None,
    lead_id: Annotated[
        int | None, Field(gt=0, le=INT64_MAX, description="ServiceTitan lead id, for attribution")
    ] = None,
    idempotency_key: Annotated[str | None, Field(max_length=200)] = None,
) -> BookingResult:
    """Book the job into a window the caller chose from get_available_slots.

    Use once the caller has confirmed the window and the service address. The server re-checks the
    window against live capacity: if it was just taken you get alternatives to offer. Retrying with
    the same idempotency_key (default: interaction + slot) returns the same job, never a second one.
    Do not use to move an existing job (reschedule_job) or for do-not-service customers.
    """
    app = app_context(ctx)
    await ctx.report_progress(0, 2, "re-checking the window against live capacity and booking")
    result = await app.booking.book(
        customer_id=customer_id,
        location_id=location_id,
        slot_id=slot_id,
        summary=summary,
        priority=priority,
        interaction_id=interaction_id,
        lead_id=lead_id,
        idempotency_key=idempotency_key,
        principal=app.principal,
    )
    await ctx.report_progress(2, 2, "booked")
    return result


@tool(
    "Reschedule a job",
    permission="jobs.book",
    toolset="agent",
    read_only=False,
    destructive=False,
    idempotent=True,
)
async def reschedule_job(ctx: Context, job_id: JobId, slot_id: SlotId) -> RescheduleResult:
    """Move a scheduled job to another window from get_available_slots (same job type).

    Use when the customer asks for a different time. Jobs already dispatched, in progress or done
    cannot be moved here — escalate_to_dispatcher instead.
    """
    app = app_context(ctx)
    return await app.booking.reschedule(job_id=job_id, slot_id=slot_id)


@tool(
    "Cancel a job",
    permission="jobs.cancel",
    toolset="agent",
    read_only=False,
    destructive=True,
    idempotent=False,
)
async def cancel_job(
    ctx: Context,
    job_id: JobId,
    reason: Annotated[str, Field(min_length=1, description="Why the customer cancels, in their words")],
) -> CancelResult:
    """Cancel a job at the customer's explicit request.

    Confirm with the customer first; offering reschedule_job is often better. Do not use for jobs
    that are already completed or canceled.
    """
    app = app_context(ctx)
    return await app.booking.cancel(job_id=job_id, reason=reason)


@tool(
    "Get a job's status",
    permission="jobs.read",
    toolset="agent",
    read_only=True,
    destructive=False,
    idempotent=True,
)
async def get_job_status(
    ctx: Context,
    job_id: Annotated[int | None, Field(gt=0, le=INT64_MAX)] = None,
    job_number: Annotated[
        str | None, NumberAsText, Field(description="Job number as the customer has it")
    ] = None,
) -> JobStatusResult:
    """Where a job stands, in words a customer understands: window, technician, tracking link.

    Use when a customer asks "when is my technician coming?". The tracking link appears only once a
    technician is dispatched.
    """
    app = app_context(ctx)
    return await app.booking.status(job_id=job_id, job_number=job_number)


@tool(
    "Escalate to a dispatcher",
    permission="interactions.escalate",
    toolset="agent",
    read_only=False,
    destructive=False,
    idempotent=False,
)
async def escalate_to_dispatcher(
    ctx: Context,
    reason: Annotated[EscalationReason, Field(description="Why a person must take over")],
    note: Annotated[str, Field(min_length=1, description="What the dispatcher needs to know")],
    interaction_id: Annotated[str | None, Field(description="The conversation to escalate")] = None,
    phone: Phone | None = None,
    lead_id: Annotated[int | None, Field(gt=0, le=INT64_MAX)] = None,
) -> EscalationResult:
    """Hand the conversation to a human dispatcher, visibly in ServiceTitan (a task, and a lead follow-up).

    Use when the caller asks for a person (human_request), is upset (negative_sentiment), needs a job
    you cannot book (skill_handling), no window fits (availability), or something failed
    (agent_issue) — and always for emergencies (gas smell, CO alarm, flooding, no heat in freezing
    weather) after giving basic safety advice. Give at least one of interaction_id, phone, lead_id.
    """
    app = app_context(ctx)
    return await app.escalations.escalate(
        reason=reason,
        note=note,
        interaction_id=interaction_id,
        phone=phone,
        lead_id=lead_id,
        principal=app.principal,
    )
