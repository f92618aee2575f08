"""``SandboxTenant``: the in-memory tenant, its id sequences, and the mutations both the seed and the
routes use (so seeded bookings and API bookings follow exactly the same rules)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from .clock import SandboxClock
from .entities import (
    Appointment,
    ArrivalWindow,
    Assignment,
    BookingProvider,
    BusinessHours,
    BusinessUnit,
    Campaign,
    CancelReason,
    CrmBooking,
    Customer,
    Employee,
    Estimate,
    InstalledEquipment,
    Invoice,
    Job,
    JobNote,
    JobType,
    Lead,
    Location,
    Membership,
    MembershipType,
    RecurringServiceEvent,
    RecurringServiceType,
    Shift,
    TagType,
    Task,
    TaskResolution,
    TaskSource,
    TaskType,
    Technician,
    TechnicianRating,
    TelecomCall,
    Zone,
)
from .faults import FaultInjector

if TYPE_CHECKING:
    from .auth import TokenIssuer
    from .ratelimit import SlidingWindowLimiter

# First id of each entity kind: distinct, ServiceTitan-looking int64 ranges.
ID_BASES: dict[str, int] = {
    "business_unit": 1_045_000,
    "job_type": 2_210_000,
    "campaign": 3_150_000,
    "campaign_category": 3_140_000,
    "tag_type": 4_060_000,
    "cancel_reason": 5_010_000,
    "zone": 6_020_000,
    "arrival_window": 6_530_000,
    "technician": 7_100_000,
    "user": 7_150_000,
    "employee": 7_200_000,
    "skill": 7_300_000,
    "shift": 8_400_000,
    "customer": 10_300_000,
    "location": 10_600_000,
    "contact": 11_200_000,
    "note": 11_900_000,
    "lead": 12_500_000,
    "membership_type": 13_300_000,
    "membership": 13_400_000,
    "job": 40_100_000,
    "appointment": 40_500_000,
    "assignment": 41_000_000,
    "invoice": 42_000_000,
    "invoice_item": 42_500_000,
    "sku": 43_000_000,
    "task_type": 50_010_000,
    "task_source": 50_020_000,
    "task_resolution": 50_030_000,
    "task": 50_100_000,
    "recurring_service_type": 13_500_000,
    "recurring_service": 13_600_000,
    "recurring_service_event": 13_700_000,
    "estimate": 44_000_000,
    "estimate_item": 44_500_000,
    "booking_provider": 14_100_000,
    "booking": 14_200_000,
    "installed_equipment": 60_100_000,
    "telecom_call": 61_200_000,
    "technician_rating": 63_400_000,
}
FIRST_JOB_NUMBER = 30_001
FIRST_TASK_NUMBER = 1_201

_T = TypeVar("_T")


def phone_digits(value: str) -> str:
    """US phone as its last ten digits ("(303) 555-0142", "+13035550142" → "3035550142")."""
    digits = re.sub(r"\D", "", value or "")
    return digits[-10:] if len(digits) >= 10 else digits


def phone_matches(stored_digits: Iterable[str], wanted: str) -> bool:
    """Same number by digits, whatever the formatting; fewer than ten digits match as a suffix."""
    digits = phone_digits(wanted)
    return bool(digits) and any(stored.endswith(digits) for stored in stored_digits)


@dataclass
class SandboxTenant:
    """Everything one emulated tenant holds. Tests may read and poke these collections directly."""

    tenant_id: int
    clock: SandboxClock
    seed: int
    company_name: str = "Peak Home Services"
    api_user_id: int = 0  # employee that API writes are attributed to (set by the seed)
    business_hours: BusinessHours = field(default_factory=lambda: BusinessHours([], [], []))
    business_units: dict[int, BusinessUnit] = field(default_factory=dict)
    job_types: dict[int, JobType] = field(default_factory=dict)
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    tag_types: dict[int, TagType] = field(default_factory=dict)
    cancel_reasons: dict[int, CancelReason] = field(default_factory=dict)
    zones: dict[int, Zone] = field(default_factory=dict)
    arrival_windows: dict[int, ArrivalWindow] = field(default_factory=dict)
    technicians: dict[int, Technician] = field(default_factory=dict)
    shifts: dict[int, Shift] = field(default_factory=dict)
    employees: dict[int, Employee] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    leads: dict[int, Lead] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    appointments: dict[int, Appointment] = field(default_factory=dict)
    assignments: dict[int, Assignment] = field(default_factory=dict)
    invoices: dict[int, Invoice] = field(default_factory=dict)
    memberships: dict[int, Membership] = field(default_factory=dict)
    task_types: dict[int, TaskType] = field(default_factory=dict)
    task_sources: dict[int, TaskSource] = field(default_factory=dict)
    task_resolutions: dict[int, TaskResolution] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    membership_types: dict[int, MembershipType] = field(default_factory=dict)
    recurring_service_types: dict[int, RecurringServiceType] = field(default_factory=dict)
    recurring_service_events: dict[int, RecurringServiceEvent] = field(default_factory=dict)
    estimates: dict[int, Estimate] = field(default_factory=dict)
    booking_providers: dict[int, BookingProvider] = field(default_factory=dict)
    bookings: dict[int, CrmBooking] = field(default_factory=dict)
    installed_equipment: dict[int, InstalledEquipment] = field(default_factory=dict)
    telecom_calls: dict[int, TelecomCall] = field(default_factory=dict)
    technician_ratings: dict[int, TechnicianRating] = field(default_factory=dict)
    # Knobs and instruments for tests.
    faults: FaultInjector = field(default_factory=FaultInjector)
    request_log: list[tuple[str, str]] = field(default_factory=list)
    # (method, spec path) → every query parameter its handler has read (proves none is silently ignored).
    params_read: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    issuer: TokenIssuer | None = None
    rate_limiter: SlidingWindowLimiter | None = None
    _next_ids: dict[str, int] = field(default_factory=dict, repr=False)
    _next_job_number: int = FIRST_JOB_NUMBER
    _next_task_number: int = FIRST_TASK_NUMBER

    # -- ids --------------------------------------------------------------------------------------
    def new_id(self, kind: str) -> int:
        value = self._next_ids.get(kind, ID_BASES[kind] + 1)
        self._next_ids[kind] = value + 1
        return value

    def new_job_number(self) -> str:
        number, self._next_job_number = self._next_job_number, self._next_job_number + 1
        return str(number)

    def new_task_number(self) -> int:
        number, self._next_task_number = self._next_task_number, self._next_task_number + 1
        return number

    def now(self) -> datetime:
        return self.clock.now()

    # -- lookups ----------------------------------------------------------------------------------
    def business_unit_named(self, name: str) -> BusinessUnit:
        return _named(self.business_units.values(), name)

    def job_type_named(self, name: str) -> JobType:
        return _named(self.job_types.values(), name)

    def campaign_named(self, name: str) -> Campaign:
        return _named(self.campaigns.values(), name)

    def tag_type_named(self, name: str) -> TagType:
        return _named(self.tag_types.values(), name)

    def technician_named(self, name: str) -> Technician:
        return _named(self.technicians.values(), name)

    def employee_named(self, name: str) -> Employee:
        return _named(self.employees.values(), name)

    def zone_for_zip(self, zip_code: str) -> Zone | None:
        five = (zip_code or "").strip()[:5]
        return next((z for z in self.zones.values() if z.active and five in z.zips), None)

    def customer_phones(self, customer: Customer) -> set[str]:
        """Digits of every phone on the customer and on its locations."""
        contacts = list(customer.contacts)
        for location in self.customer_locations(customer.id):
            contacts.extend(location.contacts)
        return {phone_digits(c.value) for c in contacts if c.type in ("Phone", "MobilePhone")}

    def customers_by_phone(self, phone: str) -> list[Customer]:
        return [c for c in self.customers.values() if phone_matches(self.customer_phones(c), phone)]

    def customer_locations(self, customer_id: int) -> list[Location]:
        return [loc for loc in self.locations.values() if loc.customer_id == customer_id]

    def job_appointments(self, job: Job) -> list[Appointment]:
        return [self.appointments[i] for i in job.appointment_ids]

    def appointment_technician_ids(self, appointment_id: int) -> list[int]:
        return [
            a.technician_id
            for a in self.assignments.values()
            if a.appointment_id == appointment_id and a.active
        ]

    # -- jobs and appointments ----------------------------------------------------------------------
    def add_job(self, job: Job) -> Job:
        """Store a new job together with its (empty, pending) invoice, as ServiceTitan does."""
        invoice = Invoice(
            id=self.new_id("invoice"),
            job_id=job.id,
            customer_id=job.customer_id,
            location_id=job.location_id,
            business_unit_id=job.business_unit_id,
            reference_number=job.job_number,
            created_on=job.created_on,
            modified_on=job.created_on,
            tax_rate=0.0,
        )
        job.invoice_id = invoice.id
        self.invoices[invoice.id] = invoice
        self.jobs[job.id] = job
        return job

    def add_appointment(
        self,
        job: Job,
        start: datetime,
        end: datetime,
        arrival_window: tuple[datetime, datetime] | None = None,
        technician_ids: Iterable[int] = (),
        special_instructions: str | None = None,
        status: str = "Scheduled",
        created_on: datetime | None = None,
    ) -> Appointment:
        created = created_on or self.now()
        appointment = Appointment(
            id=self.new_id("appointment"),
            job_id=job.id,
            customer_id=job.customer_id,
            number=f"{job.job_number}-{len(job.appointment_ids) + 1}",
            start=start,
            end=end,
            arrival_window_start=arrival_window[0] if arrival_window else None,
            arrival_window_end=arrival_window[1] if arrival_window else None,
            status=status,
            created_on=created,
            modified_on=created,
            created_by_id=self.api_user_id,
            special_instructions=special_instructions,
        )
        self.appointments[appointment.id] = appointment
        job.appointment_ids.append(appointment.id)
        self.assign(appointment, technician_ids, when=created)
        self.sync_job(job, touched=created)
        return appointment

    def assign(
        self, appointment: Appointment, technician_ids: Iterable[int], when: datetime | None = None
    ) -> None:
        """Assign technicians (idempotent: an active assignment is kept, not duplicated)."""
        when = when or self.now()
        current = set(self.appointment_technician_ids(appointment.id))
        for tech_id in technician_ids:
            if tech_id in current:
                continue
            assignment = Assignment(
                id=self.new_id("assignment"),
                appointment_id=appointment.id,
                job_id=appointment.job_id,
                technician_id=tech_id,
                assigned_by_id=self.api_user_id,
                assigned_on=when,
                created_on=when,
                modified_on=when,
            )
            self.assignments[assignment.id] = assignment
            current.add(tech_id)
        appointment.modified_on = max(appointment.modified_on, when)

    def unassign(self, appointment: Appointment, technician_ids: Iterable[int]) -> None:
        wanted = set(technician_ids)
        now = self.now()
        for assignment in self.assignments.values():
            if (
                assignment.appointment_id == appointment.id
                and assignment.active
                and assignment.technician_id in wanted
            ):
                assignment.active = False
                assignment.modified_on = now
        appointment.modified_on = now

    def reschedule(
        self,
        appointment: Appointment,
        start: datetime,
        end: datetime,
        arrival_window: tuple[datetime, datetime] | None,
    ) -> None:
        appointment.start, appointment.end = start, end
        if arrival_window is not None:
            appointment.arrival_window_start, appointment.arrival_window_end = arrival_window
        appointment.modified_on = self.now()
        self.sync_job(self.jobs[appointment.job_id])

    def cancel_job(self, job: Job, reason_id: int, memo: str) -> None:
        """Cancel the job and every open appointment, so they stop consuming capacity."""
        now = self.now()
        job.status = "Canceled"
        job.cancel_reason_id = reason_id
        job.notes.append(_job_note(f"Job canceled: {memo}", self.api_user_id, now))
        for appointment in self.job_appointments(job):
            if appointment.status in ("Scheduled", "Dispatched", "Working", "Hold"):
                appointment.status = "Canceled"
                appointment.modified_on = now
        job.modified_on = now

    def remove_cancellation(self, job: Job) -> None:
        now = self.now()
        for appointment in self.job_appointments(job):
            if appointment.status == "Canceled":
                appointment.status = "Scheduled"
                appointment.modified_on = now
        job.status = "Scheduled"
        job.cancel_reason_id = None
        self.sync_job(job, touched=now)

    def set_appointment_status(self, appointment_id: int, status: str) -> Appointment:
        """Move an appointment through dispatch (the API cannot; tests and demos can)."""
        appointment = self.appointments[appointment_id]
        appointment.status = status
        appointment.modified_on = self.now()
        job = self.jobs[appointment.job_id]
        if status == "Done" and all(a.status in ("Done", "Canceled") for a in self.job_appointments(job)):
            job.status = "Completed"
            job.completed_on = appointment.end
        self.sync_job(job)
        return appointment

    def sync_job(self, job: Job, touched: datetime | None = None) -> None:
        """Keep appointment order (first/last by start) and the derived job status consistent."""
        appointments = sorted(self.job_appointments(job), key=lambda a: (a.start, a.id))
        job.appointment_ids = [a.id for a in appointments]
        if job.status not in ("Canceled", "Completed"):
            statuses = {a.status for a in appointments if a.status != "Canceled"}
            if "Working" in statuses:
                job.status = "InProgress"
            elif "Dispatched" in statuses:
                job.status = "Dispatched"
            elif statuses == {"Hold"}:
                job.status = "Hold"
            else:
                job.status = "Scheduled"
        job.modified_on = max(job.modified_on, touched or self.now())

    # -- determinism --------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A digest of every record (not the knobs), to compare two seeded tenants."""
        collections = [
            self.business_units,
            self.job_types,
            self.campaigns,
            self.tag_types,
            self.cancel_reasons,
            self.zones,
            self.arrival_windows,
            self.technicians,
            self.shifts,
            self.employees,
            self.customers,
            self.locations,
            self.leads,
            self.jobs,
            self.appointments,
            self.assignments,
            self.invoices,
            self.memberships,
            self.task_types,
            self.task_sources,
            self.task_resolutions,
            self.tasks,
            self.membership_types,
            self.recurring_service_types,
            self.recurring_service_events,
            self.estimates,
            self.booking_providers,
            self.bookings,
            self.installed_equipment,
            self.telecom_calls,
            self.technician_ratings,
        ]
        digest = hashlib.sha256(repr(dataclasses.asdict(self.business_hours)).encode())
        for collection in collections:
            for key in sorted(collection):
                digest.update(repr(dataclasses.asdict(collection[key])).encode())
        return digest.hexdigest()


def _named(items: Iterable[_T], name: str) -> _T:
    wanted = name.casefold()
    for item in items:
        if getattr(item, "name", "").casefold() == wanted:
            return item
    raise KeyError(name)


def _job_note(text: str, author: int, when: datetime) -> JobNote:
    return JobNote(text=text, is_pinned=False, created_by_id=author, created_on=when, modified_on=when)
