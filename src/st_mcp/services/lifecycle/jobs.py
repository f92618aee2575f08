"""Where the technician is and what the customer wants the technician to know: the next appointment's
status, window, technician (first name only) and tracking link; notes on the job, attributed to the agent.

ServiceTitan gives a live tracking link once an appointment is dispatched, not an arrival time: ``eta``
says it in the customer's words from the appointment's window and status, and the link shows the map.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel

from st_mcp.policy.identity import Principal
from st_mcp.services.availability import Availability
from st_mcp.services.booking import MAX_JOB_NUMBER
from st_mcp.services.bounds import short
from st_mcp.services.errors import NotFound, Refused, UserInputError
from st_mcp.services.phones import national_digits, normalize_phone
from st_mcp.servicetitan import ApiError, NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.common import NoteInput
from st_mcp.servicetitan.models.dispatch import AppointmentAssignment
from st_mcp.servicetitan.models.jpm import Appointment, Job

MAX_NOTE = 2000  # what a caller may add in one note
OPEN_JOB = ("Scheduled", "Dispatched", "InProgress", "Hold")
LIVE = ("Dispatched", "Working")
APPOINTMENT_WORDS = {
    "Scheduled": "Scheduled — the technician will arrive within the window",
    "Dispatched": "On the way — the technician has been dispatched",
    "Working": "The technician is there and working on it",
    "Hold": "On hold — the office will call to reschedule",
    "Done": "Done",
    "Canceled": "Canceled",
}


class EtaResult(BaseModel):
    job_id: int
    job_number: str
    appointment_id: int
    status: str  # the appointment's status, in ServiceTitan's words
    status_text: str  # the same in the customer's words
    label: str  # the arrival window, e.g. "Tue May 5, 2–4 PM"
    arrival_window_start: datetime
    arrival_window_end: datetime
    technician_first_name: str | None  # never a full name or a phone number
    tracking_url: str | None  # once dispatched
    eta: str | None  # once dispatched, in the customer's words
    note: str


class JobNoteView(BaseModel):
    text: str
    pinned: bool
    created_on: datetime | None


class AddedNote(BaseModel):
    note_id: str  # ServiceTitan's job notes carry no id: a stable reference to this one
    job_id: int
    job_number: str
    text: str  # the note as stored, attribution included
    created_on: datetime | None
    note: str


def first_name(full: str | None) -> str | None:
    words = (full or "").split()
    return words[0] if words else None


class JobLifecycle:
    def __init__(self, st: ServiceTitanClient, availability: Availability) -> None:
        self._st = st
        self._availability = availability

    # ---------------------------------------------------------------- ETA
    async def eta(
        self, *, job_id: int | None, job_number: str | None, phone: str | None, now: datetime
    ) -> EtaResult:
        if job_id is None and not job_number and not phone:
            raise UserInputError("Give job_id, job_number or the caller's phone.")
        if job_id is not None or job_number:
            job = await self.find_job(job_id=job_id, job_number=job_number)
            appointments = (await self._st.jpm.list_appointments(job_id=job.id, page_size=50)).data
            appointment = _next(appointments, now)
            if appointment is None:
                raise NotFound(f"Job {job.jobNumber} has no appointment. escalate_to_dispatcher if needed.")
        else:
            job, appointment = await self._next_for_phone(normalize_phone(str(phone)), now)
        assignments = await self._st.dispatch.list_appointment_assignments(appointment_ids=[appointment.id])
        active: list[AppointmentAssignment] = [a for a in assignments.data if a.active]
        tracking = None
        if active and appointment.status in LIVE:
            try:
                link = await self._st.dispatch.technician_tracking(active[0].technicianId, appointment.id)
                tracking = link.technicianTrackingUrl
            except ApiError:
                tracking = None  # no link yet: the rest of the answer still stands
        start = appointment.arrivalWindowStart or appointment.start
        end = appointment.arrivalWindowEnd or appointment.end
        label = self._availability.label(start, end)
        tech = first_name(active[0].technicianName) if active else None
        return EtaResult(
            job_id=job.id,
            job_number=job.jobNumber,
            appointment_id=appointment.id,
            status=appointment.status,
            status_text=APPOINTMENT_WORDS.get(appointment.status, appointment.status),
            label=label,
            arrival_window_start=start,
            arrival_window_end=end,
            technician_first_name=tech,
            tracking_url=tracking,
            eta=self._eta_words(appointment, end, tech),
            note=_eta_note(appointment.status, tech, tracking),
        )

    def _eta_words(self, appointment: Appointment, end: datetime, tech: str | None) -> str | None:
        who = tech or "The technician"
        if appointment.status == "Dispatched":
            until = end.astimezone(self._availability.zone).strftime("%-I:%M %p").replace(":00", "")
            return f"{who} is on the way and should arrive by {until}; the link shows where they are."
        if appointment.status == "Working":
            return f"{who} is already there."
        return None

    async def _next_for_phone(self, e164: str, now: datetime) -> tuple[Job, Appointment]:
        customers = (await self._st.crm.list_customers(phone=national_digits(e164), page_size=10)).data
        if not customers:
            raise NotFound("No customer has that phone number. Ask for the job number instead.")
        best: tuple[Job, Appointment] | None = None
        for customer in customers:
            jobs = (await self._st.jpm.list_jobs(customer_id=customer.id, page_size=50)).data
            open_jobs = {j.id: j for j in jobs if j.jobStatus in OPEN_JOB}
            if not open_jobs:
                continue
            found = await self._st.jpm.list_appointments(customer_id=customer.id, page_size=100)
            appointment = _next([a for a in found.data if a.jobId in open_jobs], now)
            if appointment is not None and (best is None or _rank(appointment) < _rank(best[1])):
                best = (open_jobs[appointment.jobId], appointment)
        if best is None:
            raise NotFound(
                "That caller has no upcoming appointment. Offer to book one (get_available_slots)."
            )
        return best

    async def find_job(self, *, job_id: int | None, job_number: str | None) -> Job:
        if job_id is not None:
            try:
                return await self._st.jpm.get_job(job_id)
            except NotFoundError:
                raise NotFound(f"No job with id {job_id}. Ask the customer for the job number.") from None
        number = short(str(job_number).strip(), "job_number", MAX_JOB_NUMBER)
        found = (await self._st.jpm.list_jobs(number=number, page_size=1)).data
        if not found:
            raise NotFound(f"No job numbered {number}. Check the number with the customer.")
        return found[0]

    # -------------------------------------------------------------- notes
    async def add_note(self, *, job_id: int, text: str, principal: Principal) -> AddedNote:
        body = (text or "").strip()
        if not body:
            raise UserInputError("'text' is required: what should the technician know?")
        short(body, "text", MAX_NOTE)
        job = await self.find_job(job_id=job_id, job_number=None)
        if job.jobStatus in ("Completed", "Canceled"):
            raise Refused(
                f"Job {job.jobNumber} is {job.jobStatus}; notes go on open jobs. "
                "escalate_to_dispatcher if the office needs to know."
            )
        stored = f"{body}\n— added by {principal.name} (st-mcp)"
        note = await self._st.jpm.create_job_note(job.id, NoteInput(text=stored, pinToTop=True))
        created = note.createdOn
        digest = hashlib.sha256(f"{job.id}|{created}|{note.text}".encode()).hexdigest()[:16]
        return AddedNote(
            note_id=f"jobnote_{digest}",
            job_id=job.id,
            job_number=job.jobNumber,
            text=note.text,
            created_on=created,
            note=f"Added to job {job.jobNumber}; the technician sees it pinned on the job.",
        )

    async def notes(self, job_id: int) -> list[JobNoteView]:
        found = await self._st.jpm.list_job_notes(job_id)
        return [JobNoteView(text=n.text, pinned=n.isPinned, created_on=n.createdOn) for n in found.data]


def _rank(appointment: Appointment) -> tuple[int, datetime]:
    """Live appointments first (the technician is coming now), then the earliest scheduled."""
    return (0 if appointment.status in LIVE else 1, appointment.start)


def _next(appointments: list[Appointment], now: datetime) -> Appointment | None:
    """The appointment a customer means by "when is the tech coming": a live one, else the next scheduled
    one that has not ended, else the latest one."""
    live = [a for a in appointments if a.status in LIVE]
    if live:
        return min(live, key=lambda a: a.start)
    upcoming = [a for a in appointments if a.status in ("Scheduled", "Hold") and a.end >= now]
    if upcoming:
        return min(upcoming, key=lambda a: a.start)
    return max(appointments, key=lambda a: a.start) if appointments else None


def _eta_note(status: str, tech: str | None, tracking: str | None) -> str:
    if status == "Dispatched" and tracking:
        return "Share the tracking link; never give out the technician's phone number or last name."
    if status == "Scheduled":
        who = f"{tech} is" if tech else "A technician will be"
        return f"{who} assigned; the tracking link comes once they are dispatched. Give the window."
    if status in ("Done", "Canceled"):
        return f"This appointment is {status.lower()}. Offer to book a new one if the customer needs it."
    return "Give the customer the window and status in plain words."
