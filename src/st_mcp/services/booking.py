"""Booking, rescheduling, cancelling and reading jobs — with the guarantees of DESIGN §9.

- No double booking: the window is re-checked against ServiceTitan capacity (never a cache) while a
  database lease on that window is held, so two agents racing for the last slot get one job.
- Idempotent: a record keyed by ``idempotency_key`` (default: interaction + slot) is written before
  ServiceTitan is asked and completed after. A replay returns the stored job. A record left pending by
  a crash is reconciled by finding the job through the ``externalData`` key it was created with.
- Nothing half-written: a refused or failed create removes its pending record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import anyio
from pydantic import BaseModel

from st_mcp.config import BookingSettings
from st_mcp.policy.identity import Principal
from st_mcp.services.availability import Availability
from st_mcp.services.bounds import short
from st_mcp.services.catalog import Catalog
from st_mcp.services.concurrency import Later
from st_mcp.services.customers import Customers
from st_mcp.services.errors import NotFound, Refused, UserInputError
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.reference import ReferenceData
from st_mcp.services.slots import SlotClaim, SlotSigner
from st_mcp.servicetitan import ApiError, NotFoundError, ServiceTitanClient, UpstreamUnavailableError
from st_mcp.servicetitan.models.bookings import Booking as StBooking
from st_mcp.servicetitan.models.bookings import BookingAddressInput, BookingContactInput, CreateBookingRequest
from st_mcp.servicetitan.models.common import ExternalDataEntry, ExternalDataInput
from st_mcp.servicetitan.models.crm import Customer, Location
from st_mcp.servicetitan.models.dispatch import AppointmentAssignment
from st_mcp.servicetitan.models.jpm import (
    AppointmentInput,
    CancelJobRequest,
    CreateJobRequest,
    Job,
    JobType,
    RescheduleAppointmentRequest,
)
from st_mcp.store import BookingRecord, Store
from st_mcp.store.leases import lease
from st_mcp.store.revenue import BookingRequestRecord, BookingRequests

EXTERNAL_KEY = "st-mcp-booking"
MAX_JOB_NUMBER = 64  # the store's column; ServiceTitan's numbers are far shorter
Priority = str

STATUS_WORDS = {
    "Scheduled": "Scheduled — a technician will arrive within the window",
    "Dispatched": "On the way — the technician has been dispatched",
    "InProgress": "In progress — the technician is working on it",
    "Working": "In progress — the technician is working on it",
    "Hold": "On hold — the office will call to reschedule",
    "Completed": "Completed",
    "Canceled": "Canceled",
}


class BookingResult(BaseModel):
    # Job mode: the job. Booking-request mode ([booking] mode = "booking"): no job yet — booking_id is the
    # CRM booking a CSR confirms; job_id/job_number/appointment_id stay empty until it is converted.
    job_id: int | None
    job_number: str | None
    appointment_id: int | None
    status: str
    label: str
    start_utc: datetime
    end_utc: datetime
    start_local: datetime
    end_local: datetime
    customer_id: int
    location_id: int
    job_type_id: int
    business_unit_id: int
    campaign_id: int | None  # unknown on a replay answered from the store
    idempotency_key: str
    replayed: bool
    note: str
    mode: Literal["job", "booking"] = "job"
    booking_id: int | None = None


class RescheduleResult(BaseModel):
    job_id: int
    job_number: str
    appointment_id: int
    label: str
    start_utc: datetime
    end_utc: datetime
    previous_label: str


class CancelResult(BaseModel):
    job_id: int
    job_number: str
    status: str
    reason: str


class JobStatusResult(BaseModel):
    job_id: int
    job_number: str
    status: str
    status_text: str
    job_type: str
    customer_id: int
    location_id: int
    label: str | None = None
    start_utc: datetime | None = None
    end_utc: datetime | None = None
    technicians: list[str]
    tracking_url: str | None = None
    notes: list[JobNoteText] = []  # the job's notes, newest last (what the caller added, the office's)


class JobNoteText(BaseModel):
    text: str
    pinned: bool
    created_on: datetime | None = None


class Booking:
    def __init__(
        self,
        st: ServiceTitanClient,
        store: Store,
        reference: ReferenceData,
        catalog: Catalog,
        customers: Customers,
        availability: Availability,
        signer: SlotSigner,
        interactions: Interactions,
        settings: BookingSettings,
        clock: Callable[[], datetime],
        *,
        requests: BookingRequests | None = None,
    ) -> None:
        self._interactions = interactions
        # Booking-request mode's records (per tenant), beside the job bookings' own.
        self.requests = requests or BookingRequests(store.engine, str(st.tenant_id))
        self._st = st
        self._store = store
        self._reference = reference
        self._catalog = catalog
        self._customers = customers
        self._availability = availability
        self._signer = signer
        self._settings = settings
        self._now = clock

    # ------------------------------------------------------------------ book
    async def book(
        self,
        *,
        customer_id: int,
        location_id: int,
        slot_id: str,
        summary: str,
        priority: Priority | None = None,
        interaction_id: str | None = None,
        lead_id: int | None = None,
        idempotency_key: str | None = None,
        principal: Principal,
        recurring_event_id: int | None = None,
    ) -> BookingResult:
        if not summary or not summary.strip():
            raise UserInputError("'summary' is required: say in a sentence what the customer needs.")
        claim = self._signer.verify(slot_id, now=self._now())
        key = _booking_key(idempotency_key, interaction_id, slot_id, customer_id, location_id)
        fingerprint = _fingerprint(customer_id, location_id, claim)

        if self._settings.mode == "booking":
            return await self._request(
                key, fingerprint, claim, customer_id, location_id, summary, priority, interaction_id,
                lead_id, principal, recurring_event_id,
            )  # fmt: skip
        stored = await self._store.bookings.get(key)
        if stored is not None and stored.status == "booked":
            return self._replay(stored, fingerprint)

        async with self._window_lease(claim):
            stored = await self._store.bookings.get(key)
            if stored is not None:
                if stored.status == "booked":
                    return self._replay(stored, fingerprint)
                if stored.request_fingerprint != fingerprint:
                    raise UserInputError(
                        f"idempotency_key '{key}' belongs to a different booking that is not confirmed "
                        "yet. Use a new key for a new booking."
                    )
            # One round trip for all three (DESIGN §10: booking = the re-check beside the checks, then
            # the create): the lease is held, so the room seen here is still there at the create.
            async with anyio.create_task_group() as tg:
                checked = Later(
                    tg, self._checked(customer_id, location_id, claim, interaction_id, lead_id, principal)
                )
                settled = Later(tg, self._settle_doubts(claim, key, customer_id, location_id, principal))
                room = Later(tg, self._availability.window_has_room(claim))
            location, job_type = checked.value.location, checked.value.job_type
            campaign_id, tag_ids = checked.value.campaign_id, checked.value.tag_ids
            if settled.value is not None:
                return settled.value
            if not room.value:
                raise await self._window_taken(claim, location.address.zip, location_id)
            record = BookingRecord(
                idempotency_key=key,
                status="pending",
                request_fingerprint=fingerprint,
                customer_id=customer_id,
                location_id=location_id,
                job_type_id=claim.job_type_id,
                business_unit_id=claim.business_unit_id,
                window_start=claim.start,
                window_end=claim.end,
                interaction_id=interaction_id,
                job_id=None,
                job_number=None,
                appointment_id=None,
            )
            if not await self._store.bookings.start(record, principal.name):
                raise UserInputError("This booking is already being made; call book_job again in a moment.")
            request = CreateJobRequest(
                customerId=customer_id,
                locationId=location_id,
                businessUnitId=claim.business_unit_id,
                jobTypeId=claim.job_type_id,
                priority=priority or job_type.priority or "Normal",
                campaignId=campaign_id,
                appointments=[
                    AppointmentInput(
                        start=claim.start,
                        end=claim.end,
                        arrivalWindowStart=claim.start,
                        arrivalWindowEnd=claim.end,
                    )
                ],
                summary=summary.strip(),
                tagTypeIds=tag_ids or None,
                leadId=lead_id,
                externalData=ExternalDataInput(
                    applicationGuid=self._settings.application_guid,
                    externalData=[ExternalDataEntry(key=EXTERNAL_KEY, value=key)],
                ),
            )
            try:
                job = await self._st.jpm.create_job(request)
            except ApiError as exc:
                if _proves_nothing_written(exc):
                    await self._store.bookings.abandon(key)
                    raise
                self._availability.forget_capacity()  # the window may be taken now
                raise _in_doubt(key) from None
            except UpstreamUnavailableError:
                self._availability.forget_capacity()
                raise _in_doubt(key) from None
            self._availability.forget_capacity()
            return await self._finish(key, job, principal, replayed=False)

    async def _checked(
        self,
        customer_id: int,
        location_id: int,
        claim: SlotClaim,
        interaction_id: str | None,
        lead_id: int | None,
        principal: Principal,
    ) -> _Checked:
        """What must hold before anything is written upstream, whichever mode books: the takeover lock,
        do-not-service, the service area, the job type, the campaign and the AI tag — read at once,
        mostly from what lookup kept (``RecentRecords``)."""
        async with anyio.create_task_group() as tg:
            records = Later(tg, self._customers.customer_and_location(customer_id, location_id))
            phones = Later(tg, self._customers.phones_of(customer_id))
            job_type = Later(tg, self._catalog.job_type(claim.job_type_id))
            campaign = Later(tg, self._campaign_for(lead_id))
            tags = Later(tg, self._ai_tag_ids())
        customer, location = records.value
        await self._interactions.check_may_book(
            principal, interaction_id, lead_id=lead_id, customer_id=customer_id, phones=phones.value
        )
        if customer.doNotService:
            raise Refused(
                f"{customer.name} is marked do-not-service in ServiceTitan, so the agent cannot book. "
                "escalate_to_dispatcher with reason skill_handling."
            )
        area = await self._catalog.require_in_area(location.address.zip)
        if area.business_unit_ids is not None and claim.business_unit_id not in area.business_unit_ids:
            raise UserInputError(
                f"That slot_id was offered for ZIP {claim.zip}, which another team serves, not for this "
                "location. Call get_available_slots with this location_id and offer those windows."
            )
        return _Checked(customer, location, job_type.value, campaign.value, tags.value, phones.value)

    async def _settle_doubts(
        self, claim: SlotClaim, key: str, customer_id: int, location_id: int, principal: Principal
    ) -> BookingResult | None:
        """Settle every create of this window whose outcome was in doubt (a 5xx, a timeout, a reset —
        this key's or another's) before anything else may book it: found by its externalData key it is
        completed (and if it is this customer's, it is the answer); not found, it is dropped. The caller
        holds the window's lease, so no create of it is in flight."""
        answer: BookingResult | None = None
        for doubtful in await self._store.bookings.pending_in_window(claim.business_unit_id, claim.start):
            job = await self._find_created(doubtful.idempotency_key)
            if job is None:
                await self._store.bookings.abandon(doubtful.idempotency_key)
                continue
            settled = await self._finish(doubtful.idempotency_key, job, principal, replayed=True)
            if answer is None and (
                doubtful.idempotency_key == key or _same_visit(doubtful, customer_id, location_id)
            ):
                answer = settled
        return answer

    # ------------------------------------------------------ booking-request mode
    async def _request(
        self,
        key: str,
        fingerprint: str,
        claim: SlotClaim,
        customer_id: int,
        location_id: int,
        summary: str,
        priority: Priority | None,
        interaction_id: str | None,
        lead_id: int | None,
        principal: Principal,
        recurring_event_id: int | None,
    ) -> BookingResult:
        """A CRM booking instead of a job, with the job path's guarantees: one per key (the key is the
        booking's externalId, so a create in doubt is found again instead of repeated), the window
        re-checked under its lease, and a record written before ServiceTitan is asked."""
        stored = await self.requests.get(key)
        if stored is not None and stored.status != "pending":
            return self._requested(_same_request(stored, fingerprint), replayed=True)
        checked = await self._checked(customer_id, location_id, claim, interaction_id, lead_id, principal)
        provider = self._settings.booking_provider
        assert provider is not None  # the settings refuse booking mode without one
        async with self._window_lease(claim):
            stored = await self.requests.get(key)
            if stored is not None:
                _same_request(stored, fingerprint)
                if stored.status != "pending":
                    return self._requested(stored, replayed=True)
                found = await self._find_booking(provider, key)
                if found is None:  # the create in doubt never reached ServiceTitan: start again
                    await self.requests.abandon(key)
                else:
                    await self.requests.requested(key, found.id, self._now())
                    return self._requested(await self._stored_request(key), replayed=True)
            if not await self._availability.window_has_room(claim):
                raise await self._window_taken(claim, checked.location.address.zip, location_id)
            record = BookingRequestRecord(
                idempotency_key=key,
                status="pending",
                request_fingerprint=fingerprint,
                customer_id=customer_id,
                location_id=location_id,
                job_type_id=claim.job_type_id,
                business_unit_id=claim.business_unit_id,
                window_start=claim.start,
                window_end=claim.end,
                interaction_id=interaction_id,
                recurring_event_id=recurring_event_id,
            )
            if not await self.requests.start(record, principal.name, self._now()):
                raise UserInputError("This booking is already being made; call book_job again in a moment.")
            location = checked.location
            label = self._availability.label(claim.start, claim.end)
            request = CreateBookingRequest(
                source=self._settings.booking_source,
                name=checked.customer.name,
                summary=f"{summary.strip()}\nRequested window: {label}\nServiceTitan customer: {customer_id}"
                + (f"\nInteraction: {interaction_id} (st-mcp)" if interaction_id else ""),
                isFirstTimeClient=False,
                externalId=key,
                contacts=await self._booking_contacts(interaction_id, checked.phones),
                address=BookingAddressInput(
                    street=location.address.street,
                    unit=location.address.unit,
                    city=location.address.city,
                    state=location.address.state,
                    zip=location.address.zip,
                    country=location.address.country or "USA",
                ),
                customerType=checked.customer.type,
                start=claim.start,
                campaignId=checked.campaign_id,
                businessUnitId=claim.business_unit_id,
                jobTypeId=claim.job_type_id,
                priority=priority or checked.job_type.priority or "Normal",  # type: ignore[arg-type]
            )
            try:
                booking = await self._st.crm.create_booking(provider, request)
            except ApiError as exc:
                if _proves_nothing_written(exc):
                    await self.requests.abandon(key)
                    raise
                raise _in_doubt(key) from None
            except UpstreamUnavailableError:
                raise _in_doubt(key) from None
            await self.requests.requested(key, booking.id, self._now())
        return self._requested(await self._stored_request(key), replayed=False)

    async def _booking_contacts(
        self, interaction_id: str | None, phones: list[str]
    ) -> list[BookingContactInput] | None:
        """The numbers the office confirms the request on: first the one the lead is texting from (a
        mobile), then the customer's others in ServiceTitan."""
        texting = (await self._interactions.row(interaction_id)).phone if interaction_id else None
        contacts = [BookingContactInput(type="MobilePhone", value=texting)] if texting else []
        contacts += [BookingContactInput(type="Phone", value=phone) for phone in phones if phone != texting]
        return contacts or None

    async def _find_booking(self, provider: int, key: str) -> StBooking | None:
        found = await self._st.crm.find_bookings(provider, external_id=key)
        return next((b for b in found.data if b.externalId == key), None)

    async def _stored_request(self, key: str) -> BookingRequestRecord:
        stored = await self.requests.get(key)
        assert stored is not None
        return stored

    def _requested(self, stored: BookingRequestRecord, *, replayed: bool) -> BookingResult:
        zone = self._availability.zone
        label = self._availability.label(stored.window_start, stored.window_end)
        converted = stored.status == "converted"
        return BookingResult(
            job_id=stored.job_id,
            job_number=stored.job_number,
            appointment_id=None,
            status="Converted" if converted else "Requested",
            label=label,
            start_utc=stored.window_start,
            end_utc=stored.window_end,
            start_local=stored.window_start.astimezone(zone),
            end_local=stored.window_end.astimezone(zone),
            customer_id=stored.customer_id,
            location_id=stored.location_id,
            job_type_id=stored.job_type_id,
            business_unit_id=stored.business_unit_id,
            campaign_id=None,
            idempotency_key=stored.idempotency_key,
            replayed=replayed,
            mode="booking",
            booking_id=stored.booking_id,
            note=(
                f"The office converted this request into job {stored.job_number} for {label}."
                if converted
                else f"Requested {label} — the office will confirm. Tell the customer it is a request, "
                "not yet a confirmed appointment; they will hear back when it is confirmed."
                + (" (Already requested earlier: nothing new was created.)" if replayed else "")
            ),
        )

    def _window_lease(self, claim: SlotClaim) -> AbstractAsyncContextManager[None]:
        name = f"window:{claim.business_unit_id}:{int(claim.start.timestamp())}"
        return lease(
            self._store.engine, name, tenant=self._store.tenant, ttl=self._settings.window_lease_seconds
        )

    async def _finish(self, key: str, job: Job, principal: Principal, *, replayed: bool) -> BookingResult:
        await self._store.bookings.complete(
            key, job_id=job.id, job_number=job.jobNumber, appointment_id=job.firstAppointmentId
        )
        stored = await self._store.bookings.get(key)
        assert stored is not None
        if stored.interaction_id:
            await self._interactions.record_booking(
                principal,
                stored.interaction_id,
                job_id=job.id,
                job_number=job.jobNumber,
                customer_id=job.customerId,
                location_id=job.locationId,
            )
        return self._result(stored, job.campaignId, replayed=replayed)

    def _replay(self, stored: BookingRecord, fingerprint: str) -> BookingResult:
        if stored.request_fingerprint != fingerprint:
            raise UserInputError(
                f"idempotency_key '{stored.idempotency_key}' was already used for a different booking "
                f"(job {stored.job_number}). Use a new key for a new booking."
            )
        return self._result(stored, None, replayed=True)

    def _result(self, stored: BookingRecord, campaign_id: int | None, *, replayed: bool) -> BookingResult:
        zone = self._availability.zone
        assert (
            stored.job_id is not None and stored.job_number is not None and stored.appointment_id is not None
        )
        label = self._availability.label(stored.window_start, stored.window_end)
        return BookingResult(
            job_id=stored.job_id,
            job_number=stored.job_number,
            appointment_id=stored.appointment_id,
            status="Scheduled",
            label=label,
            start_utc=stored.window_start,
            end_utc=stored.window_end,
            start_local=stored.window_start.astimezone(zone),
            end_local=stored.window_end.astimezone(zone),
            customer_id=stored.customer_id,
            location_id=stored.location_id,
            job_type_id=stored.job_type_id,
            business_unit_id=stored.business_unit_id,
            campaign_id=campaign_id,
            idempotency_key=stored.idempotency_key,
            replayed=replayed,
            note=(
                f"Already booked earlier: job {stored.job_number}, {label}. Nothing new was created."
                if replayed
                else f"Booked job {stored.job_number} for {label}. Confirm the window with the customer."
            ),
        )

    async def _find_created(self, key: str) -> Job | None:
        """The job a create with this key made, if it reached ServiceTitan (reads retry on faults)."""
        found = await self._st.jpm.list_jobs(
            external_data_application_guid=self._settings.application_guid,
            external_data_key=EXTERNAL_KEY,
            external_data_values=[key],
            page_size=5,
        )
        return found.data[0] if found.data else None

    async def _window_taken(self, claim: SlotClaim, zip_code: str, location_id: int) -> Refused:
        job_type = await self._catalog.job_type(claim.job_type_id)
        offer = await self._availability.offer(job_type, zip_code, location_id=location_id, now=self._now())
        others = "; ".join(
            f"{s.label} (slot_id {s.slot_id})" for s in offer.slots if s.start_utc != claim.start
        )
        label = self._availability.label(claim.start, claim.end)
        alternatives = f" Open instead: {others}." if others else " No other windows are open this week."
        return Refused(
            f"No room left in {label} — it was just taken.{alternatives} "
            "Offer these, or call get_available_slots again.",
            details={"alternatives": [s.model_dump(mode="json") for s in offer.slots]},
        )

    async def _campaign_for(self, lead_id: int | None) -> int:
        if lead_id is not None:
            try:
                return (await self._st.crm.get_lead(lead_id)).campaignId
            except NotFoundError:
                raise NotFound(
                    f"No ServiceTitan lead with id {lead_id}. Leave lead_id out or check it."
                ) from None
        campaign = await self._reference.campaign(self._settings.campaign)
        if campaign is None:
            raise RuntimeError(f"configured booking campaign '{self._settings.campaign}' does not exist")
        return campaign.id

    async def _ai_tag_ids(self) -> list[int]:
        tag = await self._reference.tag_type(self._settings.tag_type)
        return [tag.id] if tag else []

    # ------------------------------------------------------------- reschedule
    async def reschedule(self, *, job_id: int, slot_id: str) -> RescheduleResult:
        claim = self._signer.verify(slot_id, now=self._now())
        job = await self._job(job_id)
        if job.jobStatus != "Scheduled":
            raise Refused(
                f"Job {job.jobNumber} is {job.jobStatus}; only scheduled jobs can be moved. "
                "escalate_to_dispatcher if the customer needs a change."
            )
        if claim.job_type_id != job.jobTypeId:
            raise UserInputError(
                "That slot was offered for a different job type. "
                "Call get_available_slots with this job's type."
            )
        if claim.business_unit_id != job.businessUnitId:
            raise UserInputError(
                f"That slot_id was offered for ZIP {claim.zip}, which another team serves, not for this "
                "job. Call get_available_slots with the job's location_id and offer those windows."
            )
        appointment = await self._st.jpm.get_appointment(job.firstAppointmentId)
        previous = self._availability.label(appointment.start, appointment.end)
        async with self._window_lease(claim):
            if not await self._availability.window_has_room(claim):
                location = await self._st.crm.get_location(job.locationId)
                raise await self._window_taken(claim, location.address.zip, job.locationId)
            moved = await self._st.jpm.reschedule_appointment(
                appointment.id,
                RescheduleAppointmentRequest(
                    start=claim.start,
                    end=claim.end,
                    arrivalWindowStart=claim.start,
                    arrivalWindowEnd=claim.end,
                ),
            )
            self._availability.forget_capacity()
        return RescheduleResult(
            job_id=job.id,
            job_number=job.jobNumber,
            appointment_id=moved.id,
            label=self._availability.label(moved.start, moved.end),
            start_utc=moved.start,
            end_utc=moved.end,
            previous_label=previous,
        )

    # ----------------------------------------------------------------- cancel
    async def cancel(self, *, job_id: int, reason: str) -> CancelResult:
        if not reason or not reason.strip():
            raise UserInputError("'reason' is required: say why the customer is cancelling.")
        job = await self._job(job_id)
        if job.jobStatus in ("Canceled", "Completed"):
            raise Refused(f"Job {job.jobNumber} is already {job.jobStatus}; nothing to cancel.")
        reasons = await self._reference.cancel_reasons()
        wanted = self._settings.cancel_reason.casefold()
        chosen = next((r for r in reasons if r.name.casefold() == wanted), reasons[0] if reasons else None)
        if chosen is None:
            raise RuntimeError("ServiceTitan has no job cancel reasons configured")
        await self._st.jpm.cancel_job(job.id, CancelJobRequest(reasonId=chosen.id, memo=reason.strip()))
        self._availability.forget_capacity()
        return CancelResult(job_id=job.id, job_number=job.jobNumber, status="Canceled", reason=reason.strip())

    # ----------------------------------------------------------------- status
    async def status(self, *, job_id: int | None, job_number: str | None) -> JobStatusResult:
        if job_id is None and not job_number:
            raise UserInputError("Give job_id or job_number.")
        if job_id is not None:
            job = await self._job(job_id)
        else:
            number = short(str(job_number).strip(), "job_number", MAX_JOB_NUMBER)
            found = (await self._st.jpm.list_jobs(number=number, page_size=1)).data
            if not found:
                raise NotFound(f"No job numbered {job_number}. Check the number with the customer.")
            job = found[0]
        async with anyio.create_task_group() as tg:
            fetched = Later(tg, self._st.jpm.get_appointment(job.lastAppointmentId))
            assignments = Later(tg, self._st.dispatch.list_appointment_assignments(job_id=job.id))
            job_types = Later(tg, self._reference.job_types())
            notes = Later(tg, self._st.jpm.list_job_notes(job.id))
        appointment = fetched.value
        active: list[AppointmentAssignment] = [
            a for a in assignments.value.data if a.active and a.appointmentId == appointment.id
        ]
        tracking = None
        if active and appointment.status in ("Dispatched", "Working"):
            link = await self._st.dispatch.technician_tracking(active[0].technicianId, appointment.id)
            tracking = link.technicianTrackingUrl
        type_names = {t.id: t.name for t in job_types.value}
        status = (
            appointment.status
            if job.jobStatus in ("Scheduled", "Dispatched", "InProgress")
            else job.jobStatus
        )
        return JobStatusResult(
            job_id=job.id,
            job_number=job.jobNumber,
            status=job.jobStatus,
            status_text=STATUS_WORDS.get(status, status),
            job_type=type_names.get(job.jobTypeId, str(job.jobTypeId)),
            customer_id=job.customerId,
            location_id=job.locationId,
            label=self._availability.label(appointment.start, appointment.end),
            start_utc=appointment.start,
            end_utc=appointment.end,
            technicians=[a.technicianName for a in active],
            tracking_url=tracking,
            notes=[
                JobNoteText(text=n.text, pinned=n.isPinned, created_on=n.createdOn) for n in notes.value.data
            ],
        )

    async def _job(self, job_id: int) -> Job:
        try:
            return await self._st.jpm.get_job(job_id)
        except NotFoundError:
            raise NotFound(
                f"No job with id {job_id}. Use get_job_status with the job number instead."
            ) from None


@dataclass(frozen=True, slots=True)
class _Checked:
    customer: Customer
    location: Location
    job_type: JobType
    campaign_id: int
    tag_ids: list[int]
    phones: list[str]  # the customer's, in E.164


def _same_request(stored: BookingRequestRecord, fingerprint: str) -> BookingRequestRecord:
    if stored.request_fingerprint != fingerprint:
        raise UserInputError(
            f"idempotency_key '{stored.idempotency_key}' was already used for a different booking request. "
            "Use a new key for a new booking."
        )
    return stored


def _proves_nothing_written(exc: ApiError) -> bool:
    """Only a refusal of the request itself (400, 403, 404, 409, 422; a 429 was never processed) proves
    ServiceTitan wrote nothing. A 5xx may come after the write — the job may exist."""
    return exc.status < 500


def _in_doubt(key: str) -> UserInputError:
    return UserInputError(
        "ServiceTitan did not confirm the booking (it may or may not have been made). Call book_job "
        f"again with the same idempotency_key ({key}): it finds the job if it was made, and it will not "
        "create a second job."
    )


def _same_visit(record: BookingRecord, customer_id: int, location_id: int) -> bool:
    return record.customer_id == customer_id and record.location_id == location_id


def _booking_key(
    given: str | None, interaction_id: str | None, slot_id: str, customer_id: int, location_id: int
) -> str:
    if given is not None:
        if not given.strip() or len(given) > 200:
            raise UserInputError("idempotency_key must be 1–200 characters.")
        return given.strip()
    slot = hashlib.sha256(slot_id.encode()).hexdigest()[:24]
    scope = f"interaction:{interaction_id}" if interaction_id else f"customer:{customer_id}:{location_id}"
    return f"{scope}:slot:{slot}"


def _fingerprint(customer_id: int, location_id: int, claim: SlotClaim) -> str:
    text = (
        f"{customer_id}|{location_id}|{claim.job_type_id}|{claim.business_unit_id}|{claim.start.isoformat()}"
    )
    return hashlib.sha256(text.encode()).hexdigest()
