"""The one table of operation → OAuth scope, copied per operation from the OpenAPI ``security`` blocks.

Every route the sandbox serves must appear here (app.py refuses to start otherwise), and a test checks
each entry against the official documents.
"""

from __future__ import annotations

_C, _J, _D = "/crm/v2/tenant/{tenant}", "/jpm/v2/tenant/{tenant}", "/dispatch/v2/tenant/{tenant}"
_S, _M = "/settings/v2/tenant/{tenant}", "/marketing/v2/tenant/{tenant}"
_MEM, _A, _T = (
    "/memberships/v2/tenant/{tenant}",
    "/accounting/v2/tenant/{tenant}",
    "/taskmanagement/v2/tenant/{tenant}",
)

OPERATION_SCOPES: dict[tuple[str, str], str] = {
    # CRM
    ("GET", f"{_C}/customers"): "tn.crm.customers:r",
    ("GET", f"{_C}/customers/{{id}}"): "tn.crm.customers:r",
    ("POST", f"{_C}/customers"): "tn.crm.customers:w",
    ("PATCH", f"{_C}/customers/{{id}}"): "tn.crm.customers:w",
    ("GET", f"{_C}/customers/{{id}}/contacts"): "tn.crm.customers:r",
    ("POST", f"{_C}/customers/{{id}}/contacts"): "tn.crm.customers:w",
    ("GET", f"{_C}/customers/contacts"): "tn.crm.customers:r",
    ("GET", f"{_C}/customers/{{id}}/notes"): "tn.crm.customers:r",
    ("POST", f"{_C}/customers/{{id}}/notes"): "tn.crm.customers:w",
    ("GET", f"{_C}/locations"): "tn.crm.locations:r",
    ("GET", f"{_C}/locations/{{id}}"): "tn.crm.locations:r",
    ("POST", f"{_C}/locations"): "tn.crm.locations:w",
    ("GET", f"{_C}/locations/{{id}}/contacts"): "tn.crm.locations:r",
    ("GET", f"{_C}/leads"): "tn.crm.leads:r",
    ("GET", f"{_C}/leads/{{id}}"): "tn.crm.leads:r",
    ("POST", f"{_C}/leads"): "tn.crm.leads:w",
    ("PATCH", f"{_C}/leads/{{id}}"): "tn.crm.leads:w",
    ("POST", f"{_C}/leads/{{id}}/follow-up"): "tn.crm.leads:w",
    ("GET", f"{_C}/leads/{{id}}/notes"): "tn.crm.leads:r",
    ("POST", f"{_C}/leads/{{id}}/notes"): "tn.crm.leads:w",
    ("POST", f"{_C}/leads/{{id}}/dismiss"): "tn.crm.leads:w",
    ("GET", f"{_C}/export/leads"): "tn.crm.leads:r",
    # Job planning & management
    ("GET", f"{_J}/jobs"): "tn.jpm.jobs:r",
    ("GET", f"{_J}/jobs/{{id}}"): "tn.jpm.jobs:r",
    ("POST", f"{_J}/jobs"): "tn.jpm.jobs:w",
    ("PATCH", f"{_J}/jobs/{{id}}"): "tn.jpm.jobs:w",
    ("PUT", f"{_J}/jobs/{{id}}/cancel"): "tn.jpm.jobs:w",
    ("PUT", f"{_J}/jobs/{{id}}/remove-cancellation"): "tn.jpm.jobs:w",
    ("GET", f"{_J}/jobs/{{id}}/notes"): "tn.jpm.jobs:r",
    ("POST", f"{_J}/jobs/{{id}}/notes"): "tn.jpm.jobs:w",
    ("GET", f"{_J}/job-types"): "tn.jpm.jobtypes:r",
    ("GET", f"{_J}/job-types/{{id}}"): "tn.jpm.jobtypes:r",
    ("GET", f"{_J}/job-cancel-reasons"): "tn.jpm.jobcancelreasons:r",
    ("GET", f"{_J}/appointments"): "tn.jpm.appointments:r",
    ("GET", f"{_J}/appointments/{{id}}"): "tn.jpm.appointments:r",
    ("POST", f"{_J}/appointments"): "tn.jpm.appointments:w",
    ("PATCH", f"{_J}/appointments/{{id}}/reschedule"): "tn.jpm.appointments:w",
    # Dispatch (capacity is a read that needs a *write* scope — ServiceTitan's choice)
    ("POST", f"{_D}/capacity"): "tn.dis.capacity:w",
    ("GET", f"{_D}/appointment-assignments"): "tn.dis.appointmentassignments:r",
    ("POST", f"{_D}/appointment-assignments/assign-technicians"): "tn.dis.appointmentassignments:w",
    ("POST", f"{_D}/appointment-assignments/unassign-technicians"): "tn.dis.appointmentassignments:w",
    ("GET", f"{_D}/technician-shifts"): "tn.dis.technicianshifts:r",
    ("GET", f"{_D}/arrival-windows"): "tn.dis.arrivalwindows:r",
    ("GET", f"{_D}/zones"): "tn.dis.zones:r",
    ("GET", f"{_D}/zones/{{id}}"): "tn.dis.zones:r",
    ("GET", f"{_D}/business-hours"): "tn.dis.businesshours:r",
    ("GET", f"{_D}/technician-tracking"): "tn.dis.techniciantracking:r",
    # Settings
    ("GET", f"{_S}/technicians"): "tn.stt.technicians:r",
    ("GET", f"{_S}/technicians/{{id}}"): "tn.stt.technicians:r",
    ("GET", f"{_S}/business-units"): "tn.stt.businessunits:r",
    ("GET", f"{_S}/business-units/{{id}}"): "tn.stt.businessunits:r",
    ("GET", f"{_S}/tag-types"): "tn.stt.tagtypes:r",
    # Marketing, memberships, accounting
    ("GET", f"{_M}/campaigns"): "tn.mrk.campaigns:r",
    ("GET", f"{_M}/campaigns/{{id}}"): "tn.mrk.campaigns:r",
    ("GET", f"{_MEM}/memberships"): "tn.mem.memberships:r",
    ("GET", f"{_MEM}/memberships/{{id}}"): "tn.mem.memberships:r",
    ("GET", f"{_A}/invoices"): "tn.acc.invoices:r",
    # Task management
    ("GET", f"{_T}/data"): "tn.tsm.data:r",
    ("POST", f"{_T}/tasks"): "tn.tsm.tasks:w",
    ("GET", f"{_T}/tasks"): "tn.tsm.tasks:r",
    ("GET", f"{_T}/tasks/{{id}}"): "tn.tsm.tasks:r",
    # Revenue: membership types and recurring services, estimates, CRM bookings
    ("GET", f"{_MEM}/membership-types"): "tn.mem.membershiptypes:r",
    ("GET", f"{_MEM}/membership-types/{{id}}"): "tn.mem.membershiptypes:r",
    ("GET", f"{_MEM}/recurring-service-types"): "tn.mem.recurringservicetypes:r",
    ("GET", f"{_MEM}/recurring-service-events"): "tn.mem.recurringserviceevents:r",
    ("POST", f"{_MEM}/recurring-service-events/{{id}}/mark-complete"): "tn.mem.recurringserviceevents:w",
    ("GET", "/sales/v2/tenant/{tenant}/estimates"): "tn.sal.estimates:r",
    ("GET", "/sales/v2/tenant/{tenant}/estimates/{id}"): "tn.sal.estimates:r",
    ("POST", f"{_C}/booking-provider/{{booking_provider}}/bookings"): "tn.crm.bookings:w",
    ("GET", f"{_C}/booking-provider/{{booking_provider}}/bookings"): "tn.crm.bookings:r",
    ("GET", f"{_C}/booking-provider/{{booking_provider}}/bookings/{{id}}"): "tn.crm.bookings:r",
    ("GET", "/equipmentsystems/v2/tenant/{tenant}/installed-equipment"): "tn.eqs.installedequipment:r",
    ("GET", "/telecom/v3/tenant/{tenant}/calls"): "tn.tlc.calls:r",
    ("GET", "/customer-interactions/v2/tenant/{tenant}/technician-ratings"): "tn.csi.technicianrating:r",
    ("POST", "/customer-interactions/v2/tenant/{tenant}/technician-ratings"): "tn.csi.technicianrating:w",
    ("GET", f"{_J}/export/jobs"): "tn.jpm.jobs:r",
    ("GET", f"{_J}/export/appointments"): "tn.jpm.appointments:r",
    ("GET", f"{_D}/export/appointment-assignments"): "tn.dis.appointmentassignments:r",
}

ALL_SCOPES: frozenset[str] = frozenset(OPERATION_SCOPES.values())
