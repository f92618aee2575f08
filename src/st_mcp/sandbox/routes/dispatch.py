"""Dispatch: capacity, appointment assignments, technician shifts, arrival windows, zones, business
hours and the technician-tracking link."""

from __future__ import annotations

import hashlib

from .. import filters
from ..bodies import Body, UtcDatetime
from ..capacity import CapacityQuery, compute_capacity
from ..entities import Appointment
from ..paging import ListOptions, paged
from ..problems import ProblemError, bad_request, conflict
from ..routing import Call, Router, get_or_404, referenced
from ..times import iso
from ..views import dispatch as v
from ..views import jpm as jpm_views

router = Router()
DIS = "/dispatch/v2/tenant/{tenant}"
SHIFTS = ListOptions(ids=False)
WINDOWS = ListOptions(sort_fields={}, ids=False, modified=False)
ZONES = ListOptions(ids=False)
TRACKABLE = ("Dispatched", "Working")


class CapacityRequest(Body):
    startsOnOrAfter: UtcDatetime
    endsOnOrBefore: UtcDatetime
    businessUnitIds: list[int] | None = None
    jobTypeId: int | None = None
    skillBasedAvailability: bool


class TechniciansRequest(Body):
    jobAppointmentId: int
    technicianIds: list[int]


@router.post(f"{DIS}/capacity")
async def capacity(call: Call) -> dict:
    tenant = call.tenant
    body = await call.body(CapacityRequest)
    if body.endsOnOrBefore <= body.startsOnOrAfter:
        raise bad_request("endsOnOrBefore", "endsOnOrBefore must be later than startsOnOrAfter.")
    for bu_id in body.businessUnitIds or []:
        referenced(tenant.business_units, bu_id, "businessUnitIds", "Business unit")
    job_type = None
    if body.jobTypeId is not None:
        job_type = referenced(tenant.job_types, body.jobTypeId, "jobTypeId", "Job type")
    query = CapacityQuery(
        starts_on_or_after=body.startsOnOrAfter,
        ends_on_or_before=body.endsOnOrBefore,
        business_unit_ids=tuple(body.businessUnitIds) if body.businessUnitIds else None,
        job_type=job_type,
        skill_based=body.skillBasedAvailability,
    )
    now = tenant.now()
    return v.capacity(compute_capacity(tenant, query, now), iso(now))


@router.get(f"{DIS}/appointment-assignments")
async def list_assignments(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    rows = filters.apply(
        tenant.assignments.values(),
        [
            *filters.in_id_lists(q, {"appointmentIds": "appointment_id"}),
            *filters.equal_ints(q, {"jobId": "job_id"}),
        ],
    )
    return paged(q, rows, lambda a: v.assignment(a, tenant))


async def _assignment_target(call: Call) -> tuple[Appointment, list[int]]:
    tenant = call.tenant
    body = await call.body(TechniciansRequest)
    appointment = referenced(tenant.appointments, body.jobAppointmentId, "jobAppointmentId", "Appointment")
    if not body.technicianIds:
        raise bad_request("technicianIds", "At least one technician is required.")
    for tech_id in body.technicianIds:
        referenced(tenant.technicians, tech_id, "technicianIds", "Technician")
    if appointment.status in ("Canceled", "Done"):
        raise conflict(
            f"Appointment {appointment.id} is {appointment.status}; its technicians cannot change."
        )
    return appointment, list(dict.fromkeys(body.technicianIds))


@router.post(f"{DIS}/appointment-assignments/assign-technicians")
async def assign_technicians(call: Call) -> dict:
    appointment, tech_ids = await _assignment_target(call)
    call.tenant.assign(appointment, tech_ids)
    return jpm_views.dispatch_appointment(appointment)


@router.post(f"{DIS}/appointment-assignments/unassign-technicians")
async def unassign_technicians(call: Call) -> dict:
    appointment, tech_ids = await _assignment_target(call)
    assigned = set(call.tenant.appointment_technician_ids(appointment.id))
    missing = [t for t in tech_ids if t not in assigned]
    if missing:
        raise bad_request(
            "technicianIds", f"Technicians {missing} are not assigned to appointment {appointment.id}."
        )
    call.tenant.unassign(appointment, tech_ids)
    return jpm_views.dispatch_appointment(appointment)


@router.get(f"{DIS}/technician-shifts")
async def list_shifts(call: Call) -> dict:
    q = call.query
    starts, ends = q.datetime("startsOnOrAfter"), q.datetime("endsOnOrBefore")
    rows = filters.apply(
        call.tenant.shifts.values(),
        [
            (lambda s: s.start >= starts) if starts else None,
            (lambda s: s.end <= ends) if ends else None,
            filters.enum_equals(q, "shiftType", ("Normal", "OnCall", "TimeOff"), "shift_type"),
            *filters.equal_ints(q, {"technicianId": "technician_id"}),
            filters.contains(q, "titleContains", lambda s: s.title),
            filters.contains(q, "noteContains", lambda s: s.note),
        ],
    )
    return paged(q, rows, v.shift, SHIFTS)


@router.get(f"{DIS}/arrival-windows")
async def list_arrival_windows(call: Call) -> dict:
    return paged(call.query, call.tenant.arrival_windows.values(), v.arrival_window, WINDOWS)


@router.get(f"{DIS}/zones")
async def list_zones(call: Call) -> dict:
    return paged(call.query, call.tenant.zones.values(), v.zone, ZONES)


@router.get(f"{DIS}/zones/{{id}}")
async def get_zone(call: Call) -> dict:
    return v.zone(get_or_404(call.tenant.zones, call.path_id(), "Zone"))


@router.get(f"{DIS}/business-hours")
async def business_hours(call: Call) -> dict:
    return v.business_hours(call.tenant.business_hours)


@router.get(f"{DIS}/technician-tracking")
async def technician_tracking(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    technician_id, appointment_id = q.required_int("technicianId"), q.required_int("appointmentId")
    referenced(tenant.technicians, technician_id, "technicianId", "Technician")
    appointment = referenced(tenant.appointments, appointment_id, "appointmentId", "Appointment")
    if technician_id not in tenant.appointment_technician_ids(appointment_id):
        raise bad_request(
            "technicianId", f"Technician {technician_id} is not assigned to appointment {appointment_id}."
        )
    if appointment.status not in TRACKABLE:
        raise ProblemError(
            400,
            f"Tracking starts once the technician is dispatched (the appointment is {appointment.status}).",
            {"appointmentId": [appointment.status]},
        )
    token = hashlib.sha256(f"{tenant.tenant_id}:{appointment_id}:{technician_id}".encode()).hexdigest()[:24]
    return {"technicianTrackingUrl": f"https://track.sandbox.servicetitan.invalid/t/{token}"}
