"""The tenant's records, in the sandbox's own terms (snake_case, aware UTC datetimes).

Wire shapes (ServiceTitan's camelCase JSON) live in views.py; this module knows nothing about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# applicationGuid (lower-case) → ordered (key, value) pairs; private to the app that wrote them.
ExternalData = dict[str, list[tuple[str, str]]]

ACTIVE_APPOINTMENT_STATUSES = frozenset({"Scheduled", "Dispatched", "Working", "Hold"})
PRIORITIES = ("Low", "Normal", "High", "Urgent")


@dataclass
class Address:
    street: str
    city: str
    state: str
    zip: str
    country: str = "USA"
    unit: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Contact:
    id: int
    type: str  # Phone | Email | Fax | MobilePhone
    value: str
    memo: str | None
    created_on: datetime
    modified_on: datetime
    do_not_text: bool = False


@dataclass
class Note:
    id: int
    text: str
    is_pinned: bool
    created_by_id: int
    created_on: datetime
    modified_on: datetime


@dataclass
class CustomField:
    type_id: int
    name: str
    value: str | None


@dataclass
class Customer:
    id: int
    name: str
    type: str  # Residential | Commercial
    address: Address
    created_on: datetime
    modified_on: datetime
    created_by_id: int
    active: bool = True
    balance: float = 0.0
    tax_exempt: bool = False
    do_not_mail: bool = False
    do_not_service: bool = False
    national_account: bool = False
    payment_term_id: int | None = None
    credit_limit: float | None = None
    credit_limit_balance: float | None = None
    tag_type_ids: list[int] = field(default_factory=list)
    custom_fields: list[CustomField] = field(default_factory=list)
    external_data: ExternalData = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass
class Location:
    id: int
    customer_id: int
    name: str
    address: Address
    created_on: datetime
    modified_on: datetime
    created_by_id: int
    zone_id: int | None = None
    active: bool = True
    tax_zone_id: int | None = None
    tax_exempt: bool = False
    tag_type_ids: list[int] = field(default_factory=list)
    custom_fields: list[CustomField] = field(default_factory=list)
    external_data: ExternalData = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class Lead:
    id: int
    status: str  # Open | Dismissed | Converted
    priority: str
    campaign_id: int
    summary: str | None
    created_on: datetime
    modified_on: datetime
    created_by_id: int
    customer_id: int | None = None
    location_id: int | None = None
    business_unit_id: int | None = None
    job_type_id: int | None = None
    follow_up_date: datetime | None = None
    tag_type_ids: list[int] = field(default_factory=list)
    dismissing_reason_id: int | None = None
    call_reason_id: int | None = None
    booking_id: int | None = None
    call_id: int | None = None
    capture_source: str | None = None
    lead_customer_name: str | None = None
    lead_phone: str | None = None
    lead_email: str | None = None
    lead_street: str | None = None
    lead_unit: str | None = None
    lead_city: str | None = None
    lead_state: str | None = None
    lead_zip: str | None = None
    lead_country: str | None = None
    notes: list[Note] = field(default_factory=list)
    active: bool = True


@dataclass
class JobNote:
    text: str
    is_pinned: bool
    created_by_id: int
    created_on: datetime
    modified_on: datetime


@dataclass
class Job:
    id: int
    job_number: str
    customer_id: int
    location_id: int
    business_unit_id: int
    job_type_id: int
    priority: str
    campaign_id: int
    status: str  # Scheduled | Dispatched | InProgress | Hold | Completed | Canceled
    created_on: datetime
    modified_on: datetime
    created_by_id: int
    invoice_id: int = 0
    summary: str | None = None
    completed_on: datetime | None = None
    project_id: int | None = None
    membership_id: int | None = None
    customer_po: str = ""
    lead_id: int | None = None
    booking_id: int | None = None
    sold_by_id: int | None = None
    no_charge: bool = False
    job_generated_lead_source: dict[str, int | None] | None = None
    tag_type_ids: list[int] = field(default_factory=list)
    custom_fields: list[CustomField] = field(default_factory=list)
    external_data: ExternalData = field(default_factory=dict)
    appointment_ids: list[int] = field(default_factory=list)
    notes: list[JobNote] = field(default_factory=list)
    cancel_reason_id: int | None = None
    summary_of_work: str | None = None
    active: bool = True

    @property
    def priority_rank(self) -> int:
        return PRIORITIES.index(self.priority) if self.priority in PRIORITIES else 0


@dataclass
class Appointment:
    id: int
    job_id: int
    customer_id: int
    number: str
    start: datetime
    end: datetime
    arrival_window_start: datetime | None
    arrival_window_end: datetime | None
    status: str  # Scheduled | Dispatched | Working | Hold | Done | Canceled
    created_on: datetime
    modified_on: datetime
    created_by_id: int
    special_instructions: str | None = None
    unused: bool = False
    is_confirmed: bool = False
    active: bool = True

    @property
    def consumes_capacity(self) -> bool:
        return self.active and self.status in ACTIVE_APPOINTMENT_STATUSES

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass
class Assignment:
    id: int
    appointment_id: int
    job_id: int
    technician_id: int
    assigned_by_id: int
    assigned_on: datetime
    created_on: datetime
    modified_on: datetime
    active: bool = True


@dataclass
class BusinessUnit:
    id: int
    name: str
    official_name: str
    trade: tuple[int, str]
    email: str
    phone: str
    address: Address
    created_on: datetime
    modified_on: datetime
    active: bool = True
    tag_type_ids: list[int] = field(default_factory=list)


@dataclass
class JobType:
    id: int
    name: str
    business_unit_ids: list[int]
    skills: list[str]
    priority: str
    duration_seconds: int
    summary: str
    created_on: datetime
    modified_on: datetime
    job_class: str = "Service"
    sold_threshold: float | None = None
    active: bool = True
    tag_type_ids: list[int] = field(default_factory=list)

    @property
    def is_emergency(self) -> bool:
        return self.priority == "Urgent"


@dataclass
class Technician:
    id: int
    user_id: int
    name: str
    business_unit_id: int
    skills: list[tuple[int, str]]
    zone_ids: list[int]
    email: str
    phone: str
    created_on: datetime
    modified_on: datetime
    home: Address | None = None
    team: str | None = None
    positions: list[str] = field(default_factory=lambda: ["Service"])
    hourly_rate: float = 32.0
    active: bool = True

    @property
    def skill_names(self) -> frozenset[str]:
        return frozenset(name for _, name in self.skills)

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        return self.name.split(" ", 1)[-1]


@dataclass
class Shift:
    id: int
    technician_id: int
    shift_type: str  # Normal | OnCall | TimeOff
    title: str
    start: datetime
    end: datetime
    created_on: datetime
    modified_on: datetime
    note: str | None = None
    active: bool = True

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass
class ArrivalWindow:
    id: int
    start: timedelta  # business-local time of day
    duration: timedelta
    business_unit_ids: list[int]
    created_on: datetime
    modified_on: datetime
    active: bool = True


@dataclass
class BusinessHours:
    """Opening hours per weekday kind, as (fromHour, toHour) ranges in business-local time."""

    weekdays: list[tuple[int, int]]
    saturday: list[tuple[int, int]]
    sunday: list[tuple[int, int]]

    def ranges_for(self, weekday: int) -> list[tuple[int, int]]:
        if weekday == 5:
            return self.saturday
        if weekday == 6:
            return self.sunday
        return self.weekdays


@dataclass
class Zone:
    id: int
    name: str
    zips: list[str]
    cities: list[str]
    business_unit_ids: list[int]
    technician_ids: list[int]
    created_by: int
    created_on: datetime
    modified_on: datetime
    active: bool = True


@dataclass
class Campaign:
    id: int
    name: str
    category: tuple[int, str]
    created_on: datetime
    modified_on: datetime
    source: str | None = None
    medium: str | None = None
    business_unit_name: str | None = None
    phone_numbers: list[str] = field(default_factory=list)
    is_default: bool = False
    active: bool = True


@dataclass
class TagType:
    id: int
    name: str
    color: str
    code: str
    created_on: datetime
    modified_on: datetime
    importance: str | None = None
    is_conversion_opportunity: bool = False
    is_visible_on_dispatch_board: bool = True
    active: bool = True


@dataclass
class CancelReason:
    id: int
    name: str
    created_on: datetime
    modified_on: datetime
    active: bool = True


@dataclass
class Membership:
    id: int
    customer_id: int
    location_id: int | None
    business_unit_id: int
    membership_type_id: int
    status: str  # Active | Suspended | Expired | Canceled | Deleted
    billing_frequency: str
    start: datetime | None
    end: datetime | None
    duration_months: int | None
    created_on: datetime
    modified_on: datetime
    follow_up_on: datetime
    created_by_id: int | None = None
    sold_by_id: int | None = None
    next_scheduled_bill_date: datetime | None = None
    cancellation_date: datetime | None = None
    initial_deferred_revenue: float = 0.0
    memo: str | None = None
    active: bool = True


@dataclass
class InvoiceItem:
    id: int
    sku_id: int
    sku_name: str
    description: str
    type: str  # Service | Material | Equipment | PriceModifier | Unspecified
    quantity: float
    price: float
    cost: float
    order: int
    created_on: datetime
    modified_on: datetime
    technician_id: int | None = None
    taxable: bool = False

    @property
    def total(self) -> float:
        return round(self.quantity * self.price, 2)


@dataclass
class Invoice:
    id: int
    job_id: int | None
    customer_id: int
    location_id: int
    business_unit_id: int
    reference_number: str
    created_on: datetime
    modified_on: datetime
    status: str = "Pending"  # transaction status: Pending | Posted | Exported
    invoice_date: datetime | None = None
    due_date: datetime | None = None
    paid_on: datetime | None = None
    amount_paid: float = 0.0
    tax_rate: float = 0.0
    summary: str | None = None
    membership_id: int | None = None
    items: list[InvoiceItem] = field(default_factory=list)
    active: bool = True

    @property
    def sub_total(self) -> float:
        return round(sum(item.total for item in self.items), 2)

    @property
    def sales_tax(self) -> float:
        return round(sum(item.total for item in self.items if item.taxable) * self.tax_rate, 2)

    @property
    def total(self) -> float:
        return round(self.sub_total + self.sales_tax, 2)

    @property
    def balance(self) -> float:
        return round(self.total - self.amount_paid, 2)


@dataclass
class Employee:
    id: int
    name: str
    role: str
    email: str
    created_on: datetime
    active: bool = True


@dataclass
class TaskType:
    id: int
    name: str
    excluded_resolution_ids: list[int] = field(default_factory=list)
    active: bool = True


@dataclass
class TaskSource:
    id: int
    name: str
    active: bool = True


@dataclass
class TaskResolution:
    id: int
    name: str
    type: str  # Custom | Refund
    excluded_task_type_ids: list[int] = field(default_factory=list)
    active: bool = True


@dataclass
class Task:
    id: int
    task_number: int
    name: str
    reported_by_id: int
    assigned_to_id: int
    business_unit_id: int
    type_id: int
    source_id: int
    priority: str
    status: str  # ToDo | InProgress | OnHold | Canceled | Completed
    is_closed: bool
    reported_on: datetime
    created_on: datetime
    modified_on: datetime
    resolution_id: int | None = None
    complete_by: datetime | None = None
    started_on: datetime | None = None
    closed_on: datetime | None = None
    involved_employee_ids: list[int] | None = None
    customer_id: int | None = None
    job_id: int | None = None
    project_id: int | None = None
    description: str | None = None
    active: bool = True

    @property
    def priority_rank(self) -> int:
        return PRIORITIES.index(self.priority) if self.priority in PRIORITIES else 0


# -- revenue: membership types, recurring service events, estimates, CRM bookings -------------------
@dataclass
class MembershipType:
    id: int
    name: str
    discount: float  # percent off repairs ("Basic" discount mode)
    # (duration months, billingFrequency, salePrice, billingPrice, renewalPrice)
    billing: list[tuple[int | None, str, float, float, float]]
    # (business unit id, percent) — the per-unit discounts of ServiceTitan's "Units" mode
    unit_discounts: list[tuple[int, float]]
    recurring_service_type_ids: list[int]
    created_on: datetime
    modified_on: datetime
    display_name: str | None = None
    active: bool = True


@dataclass
class RecurringServiceType:
    id: int
    name: str
    recurrence_months: list[str]  # "Seasonal": the months a visit falls in
    business_unit_id: int | None
    job_type_id: int | None
    job_summary: str | None
    created_on: datetime
    modified_on: datetime
    priority: str = "Normal"
    active: bool = True


@dataclass
class RecurringServiceEvent:
    id: int
    location_recurring_service_id: int
    location_recurring_service_name: str
    location_id: int  # the location recurring service's location (how the API filters events)
    membership_id: int | None
    membership_name: str | None
    status: str  # NotAttempted | Unreachable | Contacted | Won | Dismissed
    date: datetime
    created_on: datetime
    modified_on: datetime
    job_id: int | None = None
    created_by_id: int | None = None
    active: bool = True


@dataclass
class EstimateItem:
    id: int
    sku_id: int
    sku_name: str
    sku_type: str  # Service | Material | Equipment
    description: str
    qty: float
    unit_rate: float
    unit_cost: float
    created_on: datetime
    modified_on: datetime

    @property
    def total(self) -> float:
        return round(self.qty * self.unit_rate, 2)


@dataclass
class Estimate:
    id: int
    job_id: int | None
    location_id: int
    customer_id: int
    business_unit_id: int
    name: str
    job_number: str | None
    status: str  # Open | Sold | Dismissed
    summary: str | None
    created_on: datetime
    modified_on: datetime
    tax: float = 0.0
    sold_on: datetime | None = None
    sold_by: int | None = None  # the technician who presented it
    items: list[EstimateItem] = field(default_factory=list)
    active: bool = True

    @property
    def subtotal(self) -> float:
        return round(sum(item.total for item in self.items), 2)


ESTIMATE_STATUS_VALUES = {"Open": 0, "Sold": 1, "Dismissed": 2}


@dataclass
class BookingProvider:
    id: int
    name: str
    active: bool = True


@dataclass
class CrmBooking:
    id: int
    booking_provider_id: int
    source: str
    name: str
    address: Address | None
    customer_type: str
    start: datetime | None
    summary: str
    external_id: str
    is_first_time_client: bool
    created_on: datetime
    modified_on: datetime
    status: str = "New"  # New | Converted | Dismissed | Accepted
    campaign_id: int | None = None
    business_unit_id: int | None = None
    job_type_id: int | None = None
    priority: str = "Normal"
    is_send_confirmation_email: bool | None = None
    uploaded_images: list[str] = field(default_factory=list)
    contacts: list[tuple[str, str, str | None]] = field(default_factory=list)  # (type, value, memo)
    job_id: int | None = None
    dismissing_reason_id: int | None = None
    active: bool = True


# -- after the booking: equipment, calls, technician ratings (estimates: above) -----------------------------
@dataclass
class InstalledEquipment:
    id: int
    location_id: int
    customer_id: int
    name: str
    type_id: int
    type_name: str
    manufacturer: str
    model: str
    serial_number: str
    installed_on: datetime | None
    manufactured_on: datetime | None
    created_on: datetime
    modified_on: datetime
    memo: str = ""
    cost: float = 0.0
    status: str = "Installed"  # Installed | Replaced
    active: bool = True


@dataclass
class TelecomCall:
    id: int
    received_on: datetime
    duration_seconds: int
    from_number: str  # digits as dialled, e.g. "3035550142"
    to_number: str
    direction: str  # Inbound | Outbound
    call_type: str | None  # Booked | Unbooked | Excused | NotLead …
    reason: str | None
    customer_id: int | None
    campaign_id: int | None
    agent_id: int | None
    business_unit_id: int | None
    job_number: str | None
    created_on: datetime
    modified_on: datetime
    active: bool = True


@dataclass
class TechnicianRating:
    id: int  # the sandbox's own key; the API identifies a rating by (technician, job)
    technician_id: int
    job_id: int
    rating: float
    created_on: datetime
    modified_on: datetime
    active: bool = True
