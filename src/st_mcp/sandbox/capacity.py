"""Capacity: which arrival windows still have a technician free — a pure function of the tenant state.

Rules (ServiceTitan does not publish its algorithm; these are the sandbox's, kept simple and consistent):

1. Frames. Every active arrival window on every business-local day of the range is one frame, for the
   requested business units that the window serves (default: all active units). A frame is returned
   when it lies entirely inside [startsOnOrAfter, endsOnOrBefore] and has not ended before "now".
2. Who is on. A technician of those units is listed for a frame when a ``Normal`` shift covers it
   entirely, and no ``TimeOff`` shift overlaps it. An ``OnCall`` shift counts only for an emergency
   (the requested job type has priority ``Urgent``) in a frame outside business hours.
3. Skills. With a ``jobTypeId``, ``hasRequiredSkills`` says whether the technician has every skill the
   job type lists (otherwise null). With ``skillBasedAvailability=true`` only those technicians count.
4. Busy. A technician is ``Unavailable`` when an active (not Canceled/Done) appointment assigned to them
   overlaps the frame. Each active appointment of those units that overlaps the frame but has NO
   technician assigned takes one more counted, still-available technician (preferring one of the
   appointment's own business unit) — so booking a window without choosing a tech still fills it.
5. Numbers. ``totalAvailability`` = frame hours × counted technicians, ``openAvailability`` = frame hours
   × counted technicians still available; ``isAvailable`` = at least one counted technician is still
   available (job duration does not gate it: one technician takes one job per window);
   ``isExceedingIdealBookingPercentage`` = more than 80 % of the counted hours are booked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from .entities import Appointment, ArrivalWindow, BusinessHours, JobType, Shift, Technician
from .times import BUSINESS_TZ

if TYPE_CHECKING:
    from .state import SandboxTenant

IDEAL_BOOKING_RATIO = 0.8


@dataclass(frozen=True)
class CapacityQuery:
    starts_on_or_after: datetime
    ends_on_or_before: datetime
    business_unit_ids: tuple[int, ...] | None = None
    job_type: JobType | None = None
    skill_based: bool = False


@dataclass
class TechnicianSlot:
    technician: Technician
    available: bool
    has_required_skills: bool | None
    counted: bool


@dataclass(frozen=True)
class Availability:
    start: datetime  # UTC
    end: datetime  # UTC
    business_unit_ids: tuple[int, ...]
    total_hours: float
    open_hours: float
    technicians: tuple[TechnicianSlot, ...]
    is_available: bool
    is_exceeding_ideal_booking_percentage: bool


def compute_capacity(state: SandboxTenant, query: CapacityQuery, now: datetime) -> list[Availability]:
    requested = set(query.business_unit_ids or [bu.id for bu in state.business_units.values() if bu.active])
    windows = sorted((w for w in state.arrival_windows.values() if w.active), key=lambda w: w.start)
    technicians = sorted(
        (t for t in state.technicians.values() if t.active and t.business_unit_id in requested),
        key=lambda t: (t.name, t.id),
    )
    margin = timedelta(days=1)
    lo, hi = query.starts_on_or_after - margin, query.ends_on_or_before + margin
    shifts: dict[int, list[Shift]] = defaultdict(list)
    for shift in state.shifts.values():
        if shift.active and shift.overlaps(lo, hi):
            shifts[shift.technician_id].append(shift)
    assigned: dict[int, set[int]] = defaultdict(set)
    for assignment in state.assignments.values():
        if assignment.active:
            assigned[assignment.appointment_id].add(assignment.technician_id)
    booked: dict[int, list[Appointment]] = defaultdict(list)  # technician → their open appointments
    unassigned: list[tuple[Appointment, int]] = []  # (appointment, its job's business unit)
    for appointment in state.appointments.values():
        if appointment.consumes_capacity and appointment.overlaps(lo, hi):
            for tech_id in assigned.get(appointment.id, ()):
                booked[tech_id].append(appointment)
            if not assigned.get(appointment.id):
                unassigned.append((appointment, state.jobs[appointment.job_id].business_unit_id))

    result: list[Availability] = []
    for day in _local_days(query.starts_on_or_after, query.ends_on_or_before):
        for window in windows:
            group = tuple(sorted(requested.intersection(window.business_unit_ids)))
            if not group:
                continue
            start, end = _frame(day, window)
            if start < query.starts_on_or_after or end > query.ends_on_or_before or end <= now:
                continue
            emergency = query.job_type is not None and query.job_type.is_emergency
            on_call = emergency and not _within_hours(state.business_hours, day, window)
            slots = [
                slot
                for tech in technicians
                if tech.business_unit_id in group
                and (slot := _slot(tech, shifts[tech.id], booked[tech.id], start, end, query, on_call))
            ]
            for appointment, unit_id in unassigned:
                if unit_id in group and appointment.overlaps(start, end):
                    _take_one(slots, unit_id)
            result.append(_availability(start, end, group, slots))
    return result


def _local_days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(BUSINESS_TZ).date(), end.astimezone(BUSINESS_TZ).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _frame(day: date, window: ArrivalWindow) -> tuple[datetime, datetime]:
    """The window's UTC bounds on a business-local day (wall-clock arithmetic, so DST is right)."""
    midnight = datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)
    start_local = midnight + window.start
    end_local = start_local + window.duration
    return start_local.astimezone(UTC), end_local.astimezone(UTC)


def _within_hours(hours: BusinessHours, day: date, window: ArrivalWindow) -> bool:
    start_min = window.start.total_seconds() / 60
    end_min = start_min + window.duration.total_seconds() / 60
    return any(frm * 60 <= start_min and end_min <= to * 60 for frm, to in hours.ranges_for(day.weekday()))


def _slot(
    tech: Technician,
    shifts: list[Shift],
    booked: list[Appointment],
    start: datetime,
    end: datetime,
    query: CapacityQuery,
    on_call_counts: bool,
) -> TechnicianSlot | None:
    """The technician's place in one frame, or None when they are not working it."""
    if any(s.shift_type == "TimeOff" and s.overlaps(start, end) for s in shifts):
        return None
    on_shift = any(s.shift_type == "Normal" and s.covers(start, end) for s in shifts) or (
        on_call_counts and any(s.shift_type == "OnCall" and s.covers(start, end) for s in shifts)
    )
    if not on_shift:
        return None
    skilled = None if query.job_type is None else set(query.job_type.skills) <= tech.skill_names
    busy = any(a.overlaps(start, end) for a in booked)
    counted = not (query.skill_based and query.job_type is not None and not skilled)
    return TechnicianSlot(technician=tech, available=not busy, has_required_skills=skilled, counted=counted)


def _take_one(slots: list[TechnicianSlot], business_unit_id: int) -> None:
    """An unassigned appointment occupies one counted free technician, of its own unit if possible."""
    free = [s for s in slots if s.counted and s.available]
    if free:
        # Same unit first, then the last by name — deterministic, and leaves the first names open.
        choice = max(
            free, key=lambda s: (s.technician.business_unit_id == business_unit_id, s.technician.name)
        )
        choice.available = False


def _availability(
    start: datetime, end: datetime, group: tuple[int, ...], slots: list[TechnicianSlot]
) -> Availability:
    hours = (end - start).total_seconds() / 3600
    counted = [s for s in slots if s.counted]
    free = [s for s in counted if s.available]
    total, open_ = round(hours * len(counted), 2), round(hours * len(free), 2)
    return Availability(
        start=start,
        end=end,
        business_unit_ids=group,
        total_hours=total,
        open_hours=open_,
        technicians=tuple(slots),
        is_available=bool(free),
        is_exceeding_ideal_booking_percentage=total > 0 and (total - open_) / total > IDEAL_BOOKING_RATIO,
    )
