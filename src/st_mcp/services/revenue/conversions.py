"""Noticing that the office converted a requested booking into a job (booking-request mode).

``check_once`` reads each of this server's requested bookings from ServiceTitan; one a CSR converted
(``status`` Converted with its ``jobId``) is recorded — the job on the booking record and on the
interaction (``Converted: Agent``: the agent made the sale, the office confirmed it), the member's tune-up
marked done by that job — and the lead is told through the compliance gate. One the office dismissed ends
its conversation as ``Dismissed: Human``, with the reason. Until either, the lead queue asks for no
follow-ups on that conversation (only replies). A text the gate holds (quiet
hours) is retried on the next pass; one it can never send (opted out, taken over) is not.

The job-events watcher calls it on each of its passes, and its own timer
(``conversion_poll_interval_seconds``) may too; a lease keeps them one at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from st_mcp.config import BookingSettings, PersonaSettings
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.availability import Availability
from st_mcp.services.errors import Blocked, UserInputError
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.outreach.service import Outreach
from st_mcp.services.periodic import LEADER_TTL_SECONDS, Leader, repeat
from st_mcp.servicetitan import ApiError, NotFoundError, ServiceTitanClient
from st_mcp.store import Store
from st_mcp.store.leases import LeaseTimeout, lease
from st_mcp.store.revenue import BookingRequestRecord, BookingRequests

log = logging.getLogger("st_mcp.conversions")
# The agent's side of the conversation (held to the agent's rules: takeover, quiet hours, opt-out).
NOTIFIER = Principal("booking-conversions", SYSTEM_ROLE, ai=True)
# The office's decisions in ServiceTitan (a dismissed request): a person's, so "Dismissed: Human".
OFFICE = Principal("booking office", SYSTEM_ROLE)
NEVER_SENDABLE = ("opt_out", "takeover")


class ConvertedBooking(BaseModel):
    booking_id: int
    job_id: int
    job_number: str
    interaction_id: str | None
    told: bool
    why_not_told: str | None = None


class ConversionCheck(BaseModel):
    checked: int
    converted: list[ConvertedBooking]
    still_requested: int
    dismissed: list[int]  # booking ids the office dismissed
    skipped: bool = False  # another caller (the timer, the watcher, a replica) is checking this tenant


class BookingConversions:
    def __init__(
        self,
        st: ServiceTitanClient,
        requests: BookingRequests,
        interactions: Interactions,
        outreach: Outreach,
        availability: Availability,
        settings: BookingSettings,
        persona: PersonaSettings,
        clock: Callable[[], datetime],
        store: Store,
        *,
        leader_ttl: float = LEADER_TTL_SECONDS,
    ) -> None:
        self._store = store
        self._ttl = leader_ttl
        self._st = st
        self._requests = requests
        self._interactions = interactions
        self._outreach = outreach
        self._availability = availability
        self._settings = settings
        self._persona = persona
        self._now = clock

    async def check_once(self) -> ConversionCheck:
        """One pass; its own timer and the job-events watcher both call it, one at a time per tenant (a
        lease), so a lead is never told twice by two callers."""
        result = ConversionCheck(checked=0, converted=[], still_requested=0, dismissed=[])
        provider = self._settings.booking_provider
        if provider is None:
            return result  # job mode, never configured for bookings: nothing was requested
        name = f"booking-conversions:{self._store.tenant}"
        try:
            async with lease(self._store.engine, name, tenant=self._store.tenant, ttl=self._ttl, wait=0.5):
                await self._check(provider, result)
        except LeaseTimeout:
            result.skipped = True
        return result

    async def _check(self, provider: int, result: ConversionCheck) -> None:
        for record in await self._requests.awaiting_conversion():
            result.checked += 1
            if record.status == "requested":
                assert record.booking_id is not None
                try:
                    booking = await self._st.crm.get_booking(provider, record.booking_id)
                except NotFoundError:
                    continue
                if booking.status == "Dismissed":
                    await self._requests.dismissed(record.idempotency_key, self._now())
                    await self._on_dismissed(record, booking.id)
                    result.dismissed.append(booking.id)
                    continue
                if booking.status != "Converted" or booking.jobId is None:
                    result.still_requested += 1
                    continue
                job = await self._st.jpm.get_job(booking.jobId)
                await self._requests.converted(
                    record.idempotency_key, job_id=job.id, job_number=job.jobNumber, now=self._now()
                )
                record = await self._record(record.idempotency_key)
                await self._on_converted(record, job.customerId, job.locationId)
            result.converted.append(await self._tell(record))

    async def _on_converted(self, record: BookingRequestRecord, customer_id: int, location_id: int) -> None:
        assert record.job_id is not None and record.job_number is not None
        if record.recurring_event_id is not None:
            try:
                await self._st.memberships.mark_event_complete(record.recurring_event_id, record.job_id)
            except ApiError as exc:  # the tune-up stays open in ServiceTitan; the office can link it
                log.warning("could not mark event %s done: %s", record.recurring_event_id, exc)
        if record.interaction_id:
            try:
                await self._interactions.record_booking(
                    NOTIFIER,
                    record.interaction_id,
                    job_id=record.job_id,
                    job_number=record.job_number,
                    customer_id=customer_id,
                    location_id=location_id,
                )
            except UserInputError as exc:  # taken over or closed meanwhile: the office owns it now
                log.info("interaction %s not marked converted: %s", record.interaction_id, exc)

    async def _on_dismissed(self, record: BookingRequestRecord, booking_id: int) -> None:
        """The office said no: the conversation ends as a person's decision (the lead is not texted — the
        office knows why it dismissed, and a CSR reads the reason on the conversation)."""
        if record.interaction_id is None:
            return
        try:
            await self._interactions.dismiss(
                OFFICE,
                interaction_id=record.interaction_id,
                reason=f"The office dismissed booking request {booking_id} in ServiceTitan.",
            )
        except UserInputError as exc:  # converted another way, opted out, closed: it stays as it is
            log.info("interaction %s not dismissed with its booking: %s", record.interaction_id, exc)

    async def _tell(self, record: BookingRequestRecord) -> ConvertedBooking:
        assert record.booking_id is not None and record.job_id is not None and record.job_number is not None
        told, why = False, None
        if record.interaction_id is None:
            why = "no conversation to text"
            await self._requests.told(record.idempotency_key, self._now())
        else:
            text = await self._words(record)
            try:
                if not await self._sent_before(record, text):  # a pass cut off after the send
                    interaction_id = record.interaction_id
                    await self._outreach.send_message(NOTIFIER, interaction_id=interaction_id, text=text)
                told = True
                await self._requests.told(record.idempotency_key, self._now())
            except Blocked as exc:
                why = str(exc)
                if exc.rule in NEVER_SENDABLE:
                    await self._requests.told(record.idempotency_key, self._now())
        return ConvertedBooking(
            booking_id=record.booking_id,
            job_id=record.job_id,
            job_number=record.job_number,
            interaction_id=record.interaction_id,
            told=told,
            why_not_told=why,
        )

    async def _sent_before(self, record: BookingRequestRecord, text: str) -> bool:
        assert record.interaction_id is not None and record.converted_at is not None
        sent = await self._interactions.outbound_texts_since(record.interaction_id, record.converted_at)
        return text.strip() in sent

    async def _words(self, record: BookingRequestRecord) -> str:
        assert record.job_id is not None
        job = await self._st.jpm.get_job(record.job_id)
        appointment = await self._st.jpm.get_appointment(job.firstAppointmentId)
        label = self._availability.label(appointment.start, appointment.end)
        return (
            f"{self._persona.company_name}: good news — your appointment is confirmed for {label} "
            f"(job {record.job_number}). Reply here if you need to change it."
        )

    async def _record(self, key: str) -> BookingRequestRecord:
        stored = await self._requests.get(key)
        assert stored is not None
        return stored


async def check_forever(
    conversions: BookingConversions, interval_seconds: int, *, leader: Leader | None = None
) -> None:
    async def once() -> str | None:
        result = await conversions.check_once()
        return (
            f"{len(result.converted)} requested booking(s) converted into jobs" if result.converted else None
        )

    await repeat("booking conversion check", interval_seconds, once, leader=leader)
