"""Job planning & management: jobs (create/patch/cancel, notes), job types, cancel reasons, appointments.

Create-job business rules (unknown or inactive customer, location, business unit, job type, campaign,
technician; a location of another customer; a missing ``campaignId``) answer **422**, as ServiceTitan was
observed to do for a job without a campaign. Shape errors (missing/mistyped fields) answer 400.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .. import external, filters
from ..bodies import Body, ExternalDataCreate, ExternalDataUpdate, UtcDatetime, require_text
from ..entities import PRIORITIES, CustomField, Job, JobNote
from ..paging import STANDARD, ListOptions, envelope, paged
from ..problems import ProblemError, bad_request, conflict, unprocessable
from ..query import Query
from ..routing import Call, Router, get_or_404, referenced, referenced_all
from ..state import SandboxTenant
from ..views import jpm as v

router = Router()
JPM = "/jpm/v2/tenant/{tenant}"
JOB_STATUSES = ("Scheduled", "Dispatched", "InProgress", "Hold", "Completed", "Canceled")
APPOINTMENT_STATUSES = ("Scheduled", "Dispatched", "Working", "Hold", "Done", "Canceled")
JOBS = ListOptions(
    sort_fields={
        "Id": "id",
        "ModifiedOn": "modified_on",
        "CreatedOn": "created_on",
        "Priority": "priority_rank",
    },
    active_default=None,
)
JOB_TYPES = ListOptions(
    sort_fields={"id": "id", "modifiedOn": "modified_on", "createdOn": "created_on"}, order_by=True
)
JOB_ID_FILTERS = {
    "projectId": "project_id",
    "bookingId": "booking_id",
    "customerId": "customer_id",
    "locationId": "location_id",
    "soldById": "sold_by_id",
    "jobTypeId": "job_type_id",
    "campaignId": "campaign_id",
    "businessUnitId": "business_unit_id",
    "invoiceId": "invoice_id",
}
CANCEL_REASONS = ListOptions(active_default="Any", ids=False)  # "active and inactive … by default"


# -- bodies ------------------------------------------------------------------------------------------
class AppointmentIn(Body):
    start: UtcDatetime
    end: UtcDatetime
    arrivalWindowStart: UtcDatetime | None = None
    arrivalWindowEnd: UtcDatetime | None = None
    technicianIds: list[int] | None = None


class JobCustomField(Body):
    typeId: int
    value: str | None = None


class LeadSource(Body):
    jobId: int | None = None
    employeeId: int | None = None


class CreateJob(Body):
    customerId: int
    locationId: int
    projectId: int | None = None
    businessUnitId: int
    jobGeneratedLeadSource: LeadSource | None = None
    jobTypeId: int
    priority: str
    campaignId: int | None = None  # required by the spec; its absence is a 422 business error (see above)
    appointments: list[AppointmentIn]
    summary: str | None = None
    customFields: list[JobCustomField] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataCreate | None = None
    invoiceSignatureIsRequired: bool | None = None
    customerPo: str | None = None
    soldById: int | None = None
    partnerLeadCallId: int | None = None
    leadId: int | None = None
    bookingId: int | None = None
    noCharge: bool | None = None


class UpdateJob(Body):
    customerId: int | None = None
    locationId: int | None = None
    businessUnitId: int | None = None
    jobGeneratedLeadSource: LeadSource | None = None
    jobTypeId: int | None = None
    priority: str | None = None
    campaignId: int | None = None
    summary: str | None = None
    shouldUpdateInvoiceItems: bool | None = None
    customFields: list[JobCustomField] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataUpdate | None = None
    customerPo: str | None = None
    soldById: int | None = None
    isAutoDispatched: bool | None = None
    summaryOfWork: str | None = None
    noCharge: bool | None = None


class CancelJob(Body):
    reasonId: int
    memo: str


class JobNoteIn(Body):
    text: str
    pinToTop: bool | None = None


class AddAppointment(Body):
    jobId: int
    start: UtcDatetime
    end: UtcDatetime
    arrivalWindowStart: UtcDatetime | None = None
    arrivalWindowEnd: UtcDatetime | None = None
    technicianIds: list[int] | None = None
    specialInstructions: str | None = None


class Reschedule(Body):
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    arrivalWindowStart: UtcDatetime | None = None
    arrivalWindowEnd: UtcDatetime | None = None


# -- validation helpers --------------------------------------------------------------------------------
# Appointment times are stored as SQL Server datetimes: earlier than 1753 cannot be (the sandbox's choice of
# answer is .NET's own message for it, as a 400 rather than the 500 an unguarded write would give).
SQL_MIN = datetime(1753, 1, 1, tzinfo=UTC)
SQL_MAX = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
SQL_RANGE_MESSAGE = "SqlDateTime overflow. Must be between 1/1/1753 12:00:00 AM and 12/31/9999 11:59:59 PM."


def _priority(value: str, field: str = "priority") -> str:
    if value not in PRIORITIES:
        raise bad_request(field, f"'{value}' is not a valid priority. Use one of: {', '.join(PRIORITIES)}.")
    return value


def _times(
    field: str, start: datetime, end: datetime, window_start: datetime | None, window_end: datetime | None
) -> tuple[datetime, datetime] | None:
    for name, value in (("start", start), ("end", end), ("arrivalWindowStart", window_start),
                        ("arrivalWindowEnd", window_end)):  # fmt: skip
        if value is not None and not SQL_MIN <= value <= SQL_MAX:
            raise bad_request(f"{field}.{name}", SQL_RANGE_MESSAGE)
    if end <= start:
        raise bad_request(f"{field}.end", "The appointment must end after it starts.")
    if (window_start is None) != (window_end is None):
        raise bad_request(
            f"{field}.arrivalWindowEnd", "Give both arrivalWindowStart and arrivalWindowEnd, or neither."
        )
    if window_start is not None and window_end is not None:
        if window_end <= window_start:
            raise bad_request(f"{field}.arrivalWindowEnd", "The arrival window must end after it starts.")
        return window_start, window_end
    return None


def _technicians(tenant: SandboxTenant, ids: list[int] | None, field: str, status: int) -> list[int]:
    for tech_id in ids or []:
        referenced(tenant.technicians, tech_id, field, "Technician", status)
    return list(dict.fromkeys(ids or []))


def _custom_fields(items: list[JobCustomField] | None) -> list[CustomField]:
    return [CustomField(type_id=f.typeId, name=f"Custom {f.typeId}", value=f.value) for f in items or []]


# -- jobs ----------------------------------------------------------------------------------------------
def _job_filters(q: Query, tenant: SandboxTenant) -> list[filters.Predicate | None]:
    number = q.str("number")
    appointment_status = q.enum("appointmentStatus", APPOINTMENT_STATUSES)
    tag_ids = q.int_list("tagTypeIds", max_items=None)
    technician_id = q.int("technicianId")
    unused = q.bool("hasUnusedAppointments")
    # The sandbox has no estimates or installed equipment: no job was created from one or holds one,
    # so these filters (bound and checked like the rest) match nothing.
    from_estimate = q.int("createdFromEstimateId")
    estimate_ids, equipment_ids = q.int_list("estimateIds"), q.int_list("equipmentIds")
    never = any(value is not None for value in (from_estimate, estimate_ids, equipment_ids))
    return [
        (lambda j: False) if never else None,
        *filters.equal_ints(q, JOB_ID_FILTERS),
        (lambda j: j.job_number == number) if number else None,
        filters.enum_equals(q, "jobStatus", JOB_STATUSES, "status"),
        filters.enum_equals(q, "priority", PRIORITIES, "priority"),
        (lambda j: any(a.status == appointment_status for a in tenant.job_appointments(j)))
        if appointment_status
        else None,
        (lambda j: bool(tag_ids.intersection(j.tag_type_ids))) if tag_ids else None,
        (lambda j: any(technician_id in tenant.appointment_technician_ids(a) for a in j.appointment_ids))
        if technician_id is not None
        else None,
        *_start_filters(q, tenant),
        *filters.time_range(q, "completedOnOrAfter", "completedBefore", "completed_on"),
        (lambda j: any(a.unused for a in tenant.job_appointments(j)) == unused)
        if unused is not None
        else None,
        external.external_filter(q),
    ]


def _start_filters(q: Query, tenant: SandboxTenant) -> list[filters.Predicate | None]:
    """Jobs whose first (or any) appointment starts before / on-or-after a time."""
    predicates: list[filters.Predicate | None] = []
    for param, first_only, before in (
        ("appointmentStartsOnOrAfter", False, False),
        ("appointmentStartsBefore", False, True),
        ("firstAppointmentStartsOnOrAfter", True, False),
        ("firstAppointmentStartsBefore", True, True),
    ):
        bound = q.datetime(param)
        if bound is not None:
            predicates.append(lambda j, b=bound, f=first_only, x=before: _starts(tenant, j, b, f, x))
    return predicates


def _starts(tenant: SandboxTenant, job: Job, bound: datetime, first_only: bool, before: bool) -> bool:
    appointments = tenant.job_appointments(job)[:1] if first_only else tenant.job_appointments(job)
    return any((a.start < bound) == before for a in appointments)


@router.get(f"{JPM}/jobs")
async def list_jobs(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    rows = filters.apply(tenant.jobs.values(), _job_filters(q, tenant))
    guid = external.requested_guid(q)
    return paged(q, rows, lambda j: v.job(j, tenant, guid), JOBS)


@router.get(f"{JPM}/jobs/{{id}}")
async def get_job(call: Call) -> dict:
    job = get_or_404(call.tenant.jobs, call.path_id(), "Job")
    return v.job(job, call.tenant, external.requested_guid(call.query))


@router.post(f"{JPM}/jobs")
async def create_job(call: Call) -> dict:
    tenant, now = call.tenant, call.tenant.now()
    body = await call.body(CreateJob)
    priority = _priority(body.priority)
    if not body.appointments:
        raise bad_request("appointments", "At least one appointment is required.")
    slots = [
        (a, _times(f"appointments[{i}]", a.start, a.end, a.arrivalWindowStart, a.arrivalWindowEnd))
        for i, a in enumerate(body.appointments)
    ]
    # Business rules → 422.
    customer = referenced(tenant.customers, body.customerId, "customerId", "Customer", 422)
    location = referenced(tenant.locations, body.locationId, "locationId", "Location", 422)
    if location.customer_id != customer.id:
        raise unprocessable(
            "locationId", f"Location {location.id} does not belong to customer {customer.id}."
        )
    referenced(tenant.business_units, body.businessUnitId, "businessUnitId", "Business unit", 422)
    referenced(tenant.job_types, body.jobTypeId, "jobTypeId", "Job type", 422)
    if body.campaignId is None:
        raise unprocessable("campaignId", "A campaign is required to book a job.")
    referenced(tenant.campaigns, body.campaignId, "campaignId", "Campaign", 422)
    tech_ids = [
        _technicians(tenant, a.technicianIds, f"appointments[{i}].technicianIds", 422)
        for i, a in enumerate(body.appointments)
    ]
    tag_ids = referenced_all(tenant.tag_types, body.tagTypeIds, "tagTypeIds", "Tag type")
    lead = referenced(tenant.leads, body.leadId, "leadId", "Lead", 422) if body.leadId is not None else None

    job = Job(
        id=tenant.new_id("job"),
        job_number=tenant.new_job_number(),
        customer_id=customer.id,
        location_id=location.id,
        business_unit_id=body.businessUnitId,
        job_type_id=body.jobTypeId,
        priority=priority,
        campaign_id=body.campaignId,
        status="Scheduled",
        created_on=now,
        modified_on=now,
        created_by_id=tenant.api_user_id,
        summary=body.summary,
        project_id=body.projectId,
        customer_po=body.customerPo or "",
        lead_id=body.leadId,
        booking_id=body.bookingId,
        sold_by_id=body.soldById,
        no_charge=bool(body.noCharge),
        job_generated_lead_source=body.jobGeneratedLeadSource.model_dump()
        if body.jobGeneratedLeadSource
        else None,
        tag_type_ids=tag_ids,
        custom_fields=_custom_fields(body.customFields),
    )
    if body.externalData:
        pairs = [(x.key, x.value) for x in body.externalData.externalData]
        external.store(job.external_data, body.externalData.applicationGuid, pairs)
    tenant.add_job(job)
    for (appointment, window), techs in zip(slots, tech_ids, strict=True):
        tenant.add_appointment(job, appointment.start, appointment.end, window, techs, created_on=now)
    if lead is not None:
        lead.status, lead.modified_on = "Converted", now
        lead.customer_id, lead.location_id = lead.customer_id or customer.id, lead.location_id or location.id
    guid = body.externalData.applicationGuid if body.externalData else None
    return v.job(job, tenant, guid)


@router.patch(f"{JPM}/jobs/{{id}}")
async def update_job(call: Call) -> dict:
    tenant = call.tenant
    job = get_or_404(tenant.jobs, call.path_id(), "Job")
    body = await call.body(UpdateJob)
    if body.customerId is not None:
        referenced(tenant.customers, body.customerId, "customerId", "Customer")
    if body.locationId is not None:
        location = referenced(tenant.locations, body.locationId, "locationId", "Location")
        if location.customer_id != (body.customerId or job.customer_id):
            raise bad_request("locationId", "The location does not belong to the job's customer.")
    for field, collection, name in (
        ("businessUnitId", tenant.business_units, "Business unit"),
        ("jobTypeId", tenant.job_types, "Job type"),
        ("campaignId", tenant.campaigns, "Campaign"),
    ):
        if getattr(body, field) is not None:
            referenced(collection, getattr(body, field), field, name)
    if body.priority is not None:
        _priority(body.priority)
    if body.tagTypeIds is not None:
        job.tag_type_ids = referenced_all(tenant.tag_types, body.tagTypeIds, "tagTypeIds", "Tag type")
    if body.customFields is not None:
        job.custom_fields = _custom_fields(body.customFields)
    if body.jobGeneratedLeadSource is not None:
        job.job_generated_lead_source = body.jobGeneratedLeadSource.model_dump()
    for field, attribute in (
        ("customerId", "customer_id"),
        ("locationId", "location_id"),
        ("businessUnitId", "business_unit_id"),
        ("jobTypeId", "job_type_id"),
        ("priority", "priority"),
        ("campaignId", "campaign_id"),
        ("summary", "summary"),
        ("customerPo", "customer_po"),
        ("soldById", "sold_by_id"),
        ("summaryOfWork", "summary_of_work"),
        ("noCharge", "no_charge"),
    ):
        if getattr(body, field) is not None:
            setattr(job, attribute, getattr(body, field))
    guid = None
    if body.externalData is not None:
        # patchMode defaults to Replace: the app's whole list is swapped (Merge updates by key).
        guid = body.externalData.applicationGuid
        pairs = [(x.key, x.value) for x in body.externalData.externalData]
        external.store(job.external_data, guid, pairs, merge=body.externalData.patchMode == "Merge")
    job.modified_on = tenant.now()
    return v.job(job, tenant, guid or external.requested_guid(call.query))


@router.put(f"{JPM}/jobs/{{id}}/cancel")
async def cancel_job(call: Call) -> None:
    tenant = call.tenant
    job = get_or_404(tenant.jobs, call.path_id(), "Job")
    body = await call.body(CancelJob)
    referenced(tenant.cancel_reasons, body.reasonId, "reasonId", "Job cancel reason")
    require_text("memo", body.memo)
    if job.status in ("Canceled", "Completed"):
        message = f"Job {job.id} is {job.status} and cannot be canceled."
        raise ProblemError(400, message, {"id": [message]})
    tenant.cancel_job(job, body.reasonId, body.memo)


@router.put(f"{JPM}/jobs/{{id}}/remove-cancellation")
async def remove_cancellation(call: Call) -> None:
    job = get_or_404(call.tenant.jobs, call.path_id(), "Job")
    if job.status != "Canceled":
        message = f"Job {job.id} is {job.status}, not canceled."
        raise ProblemError(400, message, {"id": [message]})
    call.tenant.remove_cancellation(job)


@router.get(f"{JPM}/jobs/{{id}}/notes")
async def list_job_notes(call: Call) -> dict:
    job = get_or_404(call.tenant.jobs, call.path_id(), "Job")
    return envelope(job.notes, call.query, v.job_note)  # job notes have no id: insertion order


@router.post(f"{JPM}/jobs/{{id}}/notes")
async def create_job_note(call: Call) -> dict:
    tenant = call.tenant
    job = get_or_404(tenant.jobs, call.path_id(), "Job")
    body = await call.body(JobNoteIn)
    now = tenant.now()
    note = JobNote(require_text("text", body.text), bool(body.pinToTop), tenant.api_user_id, now, now)
    job.notes.append(note)
    job.modified_on = now
    return v.job_note(note)


# -- job types and cancel reasons -------------------------------------------------------------------------
@router.get(f"{JPM}/job-types")
async def list_job_types(call: Call) -> dict:
    q = call.query
    min_duration, max_duration = q.int("minDuration"), q.int("maxDuration")
    rows = filters.apply(
        call.tenant.job_types.values(),
        [
            filters.contains(q, "name", lambda t: t.name),
            (lambda t: t.duration_seconds >= min_duration) if min_duration is not None else None,
            (lambda t: t.duration_seconds <= max_duration) if max_duration is not None else None,
            filters.enum_equals(q, "priority", PRIORITIES, "priority"),
        ],
    )
    external.requested_guid(q)  # job types carry no external data here: every app sees an empty list
    return paged(q, rows, v.job_type, JOB_TYPES)


@router.get(f"{JPM}/job-types/{{id}}")
async def get_job_type(call: Call) -> dict:
    external.requested_guid(call.query)
    return v.job_type(get_or_404(call.tenant.job_types, call.path_id(), "Job type"))


@router.get(f"{JPM}/job-cancel-reasons")
async def list_cancel_reasons(call: Call) -> dict:
    return paged(call.query, call.tenant.cancel_reasons.values(), v.cancel_reason, CANCEL_REASONS)


# -- appointments ------------------------------------------------------------------------------------------
@router.get(f"{JPM}/appointments")
async def list_appointments(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    project_id, number, technician_id = q.int("projectId"), q.str("number"), q.int("technicianId")
    unused = q.bool("unused")
    rows = filters.apply(
        tenant.appointments.values(),
        [
            *filters.equal_ints(q, {"jobId": "job_id", "customerId": "customer_id"}),
            (lambda a: tenant.jobs[a.job_id].project_id == project_id) if project_id is not None else None,
            (lambda a: a.number == number) if number else None,
            filters.enum_equals(q, "status", APPOINTMENT_STATUSES, "status"),
            *filters.time_range(q, "startsOnOrAfter", "startsBefore", "start"),
            (lambda a: technician_id in tenant.appointment_technician_ids(a.id))
            if technician_id is not None
            else None,
            (lambda a: a.unused == unused) if unused is not None else None,
        ],
    )
    return paged(q, rows, v.appointment, STANDARD)


@router.get(f"{JPM}/appointments/{{id}}")
async def get_appointment(call: Call) -> dict:
    return v.appointment(get_or_404(call.tenant.appointments, call.path_id(), "Appointment"))


@router.post(f"{JPM}/appointments")
async def add_appointment(call: Call) -> dict:
    tenant = call.tenant
    body = await call.body(AddAppointment)
    window = _times("appointment", body.start, body.end, body.arrivalWindowStart, body.arrivalWindowEnd)
    job = referenced(tenant.jobs, body.jobId, "jobId", "Job")
    if job.status in ("Canceled", "Completed"):
        raise conflict(f"Job {job.id} is {job.status}; appointments cannot be added.")
    techs = _technicians(tenant, body.technicianIds, "technicianIds", 400)
    appointment = tenant.add_appointment(job, body.start, body.end, window, techs, body.specialInstructions)
    return v.appointment(appointment)


@router.patch(f"{JPM}/appointments/{{id}}/reschedule")
async def reschedule_appointment(call: Call) -> dict:
    tenant = call.tenant
    appointment = get_or_404(tenant.appointments, call.path_id(), "Appointment")
    body = await call.body(Reschedule)
    if appointment.status in ("Canceled", "Done"):
        raise conflict(f"Appointment {appointment.id} is {appointment.status} and cannot be rescheduled.")
    start = body.start or appointment.start
    end = body.end or (start + (appointment.end - appointment.start) if body.start else appointment.end)
    window = _times(
        "appointment",
        start,
        end,
        body.arrivalWindowStart if body.arrivalWindowStart or body.arrivalWindowEnd else None,
        body.arrivalWindowEnd if body.arrivalWindowStart or body.arrivalWindowEnd else None,
    )
    tenant.reschedule(appointment, start, end, window)
    return v.appointment(appointment)
