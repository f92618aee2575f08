"""Build the seeded tenant from seed_data.py.

Everything variable comes from ``random.Random(seed)`` and is anchored to the clock's current hour, so
"the next two weeks" are always partly booked whatever the date, and the same seed at the same clock hour
gives the same tenant. Fixed: business units, job types, technicians, campaigns, seven named customers.
Seeded: the other 43 customers, their history and memberships, Saturday rota, time off, bookings.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from .clock import SandboxClock
from .entities import (
    Address,
    ArrivalWindow,
    BusinessHours,
    BusinessUnit,
    Campaign,
    CancelReason,
    Contact,
    Customer,
    Employee,
    InvoiceItem,
    Job,
    JobNote,
    JobType,
    Lead,
    Location,
    Membership,
    Note,
    Shift,
    TagType,
    Task,
    TaskResolution,
    TaskSource,
    TaskType,
    Technician,
    Zone,
)
from .seed_data import (
    ANCHOR_CUSTOMERS,
    BUSINESS_UNITS,
    CAMPAIGNS,
    CANCEL_REASONS,
    COMMERCIAL_NAMES,
    DOMAIN,
    EMPLOYEES,
    FIRST_NAMES,
    ITEMS,
    JOB_TYPES,
    LAST_NAMES,
    ON_CALL_UNITS,
    OPEN_LEADS,
    REGION_COUNTS,
    REGION_UNITS,
    REGIONS,
    SKILLS,
    SUMMARIES,
    TAG_TYPES,
    TASK_RESOLUTIONS,
    TASK_SOURCES,
    TASK_TYPES,
    TECHNICIANS,
    TRADE_IDS,
    Region,
)
from .seed_lifecycle import seed_after_booking
from .seed_revenue import seed_revenue
from .state import SandboxTenant, phone_digits
from .times import BUSINESS_TZ

WINDOW_HOURS = (8, 10, 12, 14, 16)
BOOKED_SHARE = 0.33  # chance that an on-shift technician window in the next 14 days is already booked


def seed_tenant(seed: int, clock: SandboxClock, tenant_id: int) -> SandboxTenant:
    return _Seeder(seed, clock, tenant_id).build()


def _email(name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{DOMAIN}"


class _Seeder:
    def __init__(self, seed: int, clock: SandboxClock, tenant_id: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.t = SandboxTenant(tenant_id=tenant_id, clock=clock, seed=seed)
        # The current hour, not the current second: a real-clock tenant is stable within the hour.
        self.anchor = clock.now().replace(minute=0, second=0, microsecond=0)
        self.today = self.anchor.astimezone(BUSINESS_TZ).date()
        self.founded = self.anchor - timedelta(days=3 * 365)
        self.used_phones: set[str] = set()
        self.bu: dict[str, BusinessUnit] = {}
        self.zone: dict[str, Zone] = {}
        self.skill_ids: dict[str, int] = {}

    def build(self) -> SandboxTenant:
        self.reference_data()
        self.workforce()
        self.rota()
        self.customers()
        self.history()
        self.memberships()
        self.bookings()
        self.leads()
        self.tasks()
        seed_revenue(self.t, self.seed, self.anchor)
        seed_after_booking(self.t, self.seed, self.anchor)
        return self.t

    # -- helpers ------------------------------------------------------------------------------------
    def local(self, day: date, hour: float) -> datetime:
        """Business-local wall time on ``day``, as an aware UTC datetime."""
        wall = datetime.combine(day, time(0), tzinfo=BUSINESS_TZ) + timedelta(hours=hour)
        return wall.astimezone(UTC)

    def past(self, min_days: float, max_days: float) -> datetime:
        return self.anchor - timedelta(seconds=self.rng.uniform(min_days * 86400, max_days * 86400))

    def phone(self, area_code: str, formatted: bool | None = None) -> str:
        """A unique fictional 555-01xx number, ten digits or formatted (ServiceTitan holds both)."""
        while True:
            digits = f"{area_code}55501{self.rng.randint(0, 99):02d}"
            if digits not in self.used_phones:
                self.used_phones.add(digits)
                break
        if formatted is None:
            formatted = self.rng.random() < 0.5
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if formatted else digits

    def region_of(self, customer: Customer) -> Region:
        return next(r for r in REGIONS.values() if r.city == customer.address.city)

    def units_for(self, region: Region) -> list[BusinessUnit]:
        return [self.bu[name] for name in REGION_UNITS.get(region.key, ())]

    # -- reference data -----------------------------------------------------------------------------
    def reference_data(self) -> None:
        t, created = self.t, self.founded
        for name, role in EMPLOYEES:
            employee = Employee(t.new_id("employee"), name, role, _email(name), created)
            t.employees[employee.id] = employee
        t.api_user_id = t.employee_named("API Integration").id
        self.business_units(created)
        for name, color, code, importance, active in TAG_TYPES:
            tag = TagType(
                id=t.new_id("tag_type"),
                name=name,
                color=color,
                code=code,
                created_on=created,
                modified_on=created,
                importance=importance,
                active=active,
            )
            t.tag_types[tag.id] = tag
        self.skill_ids = {name: t.new_id("skill") for name in SKILLS}
        for name, trade, priority, duration, skills, job_class, summary, active in JOB_TYPES:
            job_type = JobType(
                id=t.new_id("job_type"),
                name=name,
                business_unit_ids=[u.id for u in self.bu.values() if u.trade[1] == trade],
                skills=list(skills),
                priority=priority,
                duration_seconds=duration,
                summary=summary,
                created_on=created,
                modified_on=created,
                job_class=job_class,
                active=active,
            )
            t.job_types[job_type.id] = job_type
        self.campaigns(created)
        for name, active in CANCEL_REASONS:
            reason = CancelReason(t.new_id("cancel_reason"), name, created, created, active)
            t.cancel_reasons[reason.id] = reason
        self.zones_and_windows(created)
        for name in TASK_TYPES:
            task_type = TaskType(t.new_id("task_type"), name)
            t.task_types[task_type.id] = task_type
        for name in TASK_SOURCES:
            source = TaskSource(t.new_id("task_source"), name)
            t.task_sources[source.id] = source
        for name, kind in TASK_RESOLUTIONS:
            resolution = TaskResolution(t.new_id("task_resolution"), name, kind)
            t.task_resolutions[resolution.id] = resolution

    def campaigns(self, created: datetime) -> None:
        t = self.t
        categories: dict[str, int] = {}
        for index, (name, category, source, medium, default, _weight, active) in enumerate(CAMPAIGNS):
            campaign = Campaign(
                id=t.new_id("campaign"),
                name=name,
                category=(categories.setdefault(category, t.new_id("campaign_category")), category),
                created_on=created,
                modified_on=created,
                source=source,
                medium=medium,
                phone_numbers=[] if default or not active else [f"303555{160 + index:04d}"],
                is_default=default,
                active=active,
            )
            t.campaigns[campaign.id] = campaign

    def zones_and_windows(self, created: datetime) -> None:
        """Service zones per region, two-hour arrival windows for every unit, and business hours."""
        t = self.t
        for region in REGIONS.values():
            if region.zone is None:
                continue
            zone = Zone(
                id=t.new_id("zone"),
                name=region.zone,
                zips=list(region.zips),
                cities=[region.city],
                business_unit_ids=[u.id for u in self.units_for(region)],
                technician_ids=[],
                created_by=t.api_user_id,
                created_on=created,
                modified_on=created,
            )
            t.zones[zone.id] = zone
            self.zone[region.zone] = zone
        units = [u.id for u in t.business_units.values() if u.active]
        # The five two-hour windows, plus a retired half-day window.
        for hour, length, active in [*((h, 2, True) for h in WINDOW_HOURS), (8, 4, False)]:
            window = ArrivalWindow(
                id=t.new_id("arrival_window"),
                start=timedelta(hours=hour),
                duration=timedelta(hours=length),
                business_unit_ids=units,
                created_on=created,
                modified_on=created,
                active=active,
            )
            t.arrival_windows[window.id] = window
        t.business_hours = BusinessHours(weekdays=[(7, 18)], saturday=[(8, 14)], sunday=[])

    def business_units(self, created: datetime) -> None:
        t = self.t
        offices = {
            "denver": Address(
                "1550 Wewatta St", "Denver", "CO", "80202", latitude=39.7530, longitude=-105.0005
            ),
            "tampa": Address(
                "4830 W Kennedy Blvd", "Tampa", "FL", "33609", latitude=27.9447, longitude=-82.5244
            ),
            "austin": Address(
                "3800 N Lamar Blvd", "Austin", "TX", "78756", latitude=30.3076, longitude=-97.7420
            ),
        }
        for index, (name, trade, region, active) in enumerate(BUSINESS_UNITS):
            unit = BusinessUnit(
                id=t.new_id("business_unit"),
                name=name,
                official_name=f"Peak Home Services - {name}",
                trade=(TRADE_IDS[trade], trade),
                email=f"{name.lower().replace(' - ', '.').replace(' ', '')}@{DOMAIN}",
                phone=f"{REGIONS[region].area_codes[0]}555{100 + index:04d}",
                address=offices[region],
                created_on=created,
                modified_on=created if active else created + timedelta(days=400),
                active=active,
            )
            t.business_units[unit.id] = unit
            self.bu[name] = unit

    # -- technicians and their rota -----------------------------------------------------------------
    def workforce(self) -> None:
        t = self.t
        for index, (name, unit_name, skills, zones, active) in enumerate(TECHNICIANS):
            hired = self.founded + timedelta(days=30 * index)
            unit = self.bu[unit_name]
            tech = Technician(
                id=t.new_id("technician"),
                user_id=t.new_id("user"),
                name=name,
                business_unit_id=unit.id,
                skills=[(self.skill_ids[s], s) for s in skills],
                zone_ids=[self.zone[z].id for z in zones],
                email=_email(name),
                phone=self.phone(unit.phone[:3], formatted=False),
                created_on=hired,
                modified_on=hired,
                team=unit_name,
                positions=["Sales", "Service"] if "Comfort Advisor" in skills else ["Service"],
                hourly_rate=float(self.rng.choice((30, 32, 34, 36, 38))),
                active=active,
            )
            t.technicians[tech.id] = tech
            for zone_name in zones if active else ():
                self.zone[zone_name].technician_ids.append(tech.id)

    def rota(self) -> None:
        """Mon–Fri 08–18 for everyone, Saturday 08–14 for about half, a weekly on-call rotation per unit,
        and time off: Tasha Reid for two weekdays from three days out, plus one seeded day for someone."""
        techs = [x for x in self.t.technicians.values() if x.active]
        for offset in range(-7, 15):
            day = self.today + timedelta(days=offset)
            week = day.isocalendar().week
            for index, tech in enumerate(techs):
                if day.weekday() < 5:
                    self.shift(tech.id, "Normal", "Regular shift", day, 8, 18)
                elif day.weekday() == 5 and (index + week + self.t.seed) % 2 == 0:
                    self.shift(tech.id, "Normal", "Saturday shift", day, 8, 14)
            for unit_name in ON_CALL_UNITS:
                crew = [x for x in techs if x.business_unit_id == self.bu[unit_name].id]
                tech = crew[(week + self.t.seed) % len(crew)]
                start, end = {5: (14, 20), 6: (8, 20)}.get(day.weekday(), (18, 22))
                title = "On call (weekend)" if day.weekday() >= 5 else "On call (evening)"
                self.shift(tech.id, "OnCall", title, day, start, end)
        tasha = self.t.technician_named("Tasha Reid")
        away = [d for d in (self.today + timedelta(days=i) for i in range(3, 10)) if d.weekday() < 5][:2]
        for day in away:
            self.shift(tasha.id, "TimeOff", "Vacation", day, 8, 18, note="Family trip")
        other = self.rng.choice([x for x in techs if x.id != tasha.id])
        day = self.today + timedelta(days=self.rng.randint(5, 12))
        self.shift(other.id, "TimeOff", "Personal day", day, 8, 18)

    def shift(
        self, tech_id: int, kind: str, title: str, day: date, start: int, end: int, note: str | None = None
    ) -> None:
        published = self.local(day, 0) - timedelta(days=14)
        start_at, end_at = self.local(day, start), self.local(day, end)
        shift = Shift(
            self.t.new_id("shift"), tech_id, kind, title, start_at, end_at, published, published, note
        )
        self.t.shifts[shift.id] = shift

    def on_shift(self, tech_id: int, start: datetime, end: datetime) -> bool:
        shifts = [s for s in self.t.shifts.values() if s.technician_id == tech_id and s.overlaps(start, end)]
        off = any(s.shift_type == "TimeOff" for s in shifts)
        return not off and any(s.shift_type == "Normal" and s.covers(start, end) for s in shifts)

    # -- customers ----------------------------------------------------------------------------------
    def customers(self) -> None:
        member_tag = self.t.tag_type_named("Member").id
        for name, kind, region, street, zip_code, phone, email, flag in ANCHOR_CUSTOMERS:
            self.used_phones.add(phone_digits(phone))
            customer = self.customer(name, kind, REGIONS[region], street, zip_code, [("Phone", phone)], email)
            customer.do_not_service = flag == "do-not-service"
            if flag == "member":
                customer.tag_type_ids.append(member_tag)
        for region_key, count in REGION_COUNTS.items():
            region = REGIONS[region_key]
            businesses = list(COMMERCIAL_NAMES.get(region_key, ()))
            for _ in range(count):
                if businesses and self.rng.random() < 0.15:
                    name, kind = businesses.pop(self.rng.randrange(len(businesses))), "Commercial"
                else:
                    name, kind = (
                        f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}",
                        "Residential",
                    )
                street = f"{self.rng.randint(100, 9899)} {self.rng.choice(region.streets)}"
                kind_of_phone = "MobilePhone" if self.rng.random() < 0.6 else "Phone"
                phones = [(kind_of_phone, self.phone(self.rng.choice(region.area_codes)))]
                if self.rng.random() < 0.2:
                    phones.append(("Phone", self.phone(region.area_codes[0])))
                email = f"{name.lower().replace(' ', '.')}@example.com" if self.rng.random() < 0.7 else None
                customer = self.customer(
                    name, kind, region, street, self.rng.choice(region.zips), phones, email
                )
                customer.do_not_service = self.rng.random() < 0.03

    def customer(
        self,
        name: str,
        kind: str,
        region: Region,
        street: str,
        zip_code: str,
        phones: list[tuple[str, str]],
        email: str | None,
    ) -> Customer:
        t = self.t
        created = self.past(60, 1000)
        modified = min(self.anchor, created + timedelta(days=self.rng.uniform(0, 200)))
        latitude = round(region.lat + self.rng.uniform(-0.08, 0.08), 6)
        longitude = round(region.lon + self.rng.uniform(-0.08, 0.08), 6)
        address = Address(street, region.city, region.state, zip_code, latitude=latitude, longitude=longitude)
        contacts = [
            Contact(t.new_id("contact"), type_, value, None, created, created) for type_, value in phones
        ]
        if email:
            contacts.append(Contact(t.new_id("contact"), "Email", email, None, created, created))
        author = t.employee_named(self.rng.choice(("Rosa Jimenez", "Marcus Bell"))).id
        customer = Customer(
            t.new_id("customer"), name, kind, address, created, modified, author, contacts=contacts
        )
        t.customers[customer.id] = customer
        zone = t.zone_for_zip(zip_code)
        location = Location(
            t.new_id("location"),
            customer.id,
            name,
            address,
            created,
            created,
            author,
            zone_id=zone.id if zone else None,
        )
        t.locations[location.id] = location
        if kind == "Commercial":
            text = "Call the office manager before arrival; park in the rear lot."
            customer.notes.append(Note(t.new_id("note"), text, True, author, created, created))
        return customer

    # -- past work ----------------------------------------------------------------------------------
    def history(self) -> None:
        """Completed jobs (with posted, mostly paid invoices) over two years; a few canceled ones."""
        t = self.t
        for customer in list(t.customers.values()):
            units = self.units_for(self.region_of(customer))
            if not units:
                continue
            named = customer.name == "Jordan Avery"  # a fixed history: two completed visits
            visits = 2 if named else self.rng.choice((0, 1, 1, 2, 2, 3, 4))
            for _ in range(visits):
                day = (self.anchor - timedelta(days=self.rng.randint(10, 720))).astimezone(BUSINESS_TZ).date()
                day -= timedelta(days=1 if day.weekday() == 6 else 0)
                job = self.job(customer, self.rng.choice(units), day, self.rng.choice(WINDOW_HOURS))
                if self.rng.random() < 0.08 and not named:
                    self.cancel(job)
                else:
                    self.complete(job, customer)

    def job(
        self,
        customer: Customer,
        unit: BusinessUnit,
        day: date,
        hour: int,
        technician_ids: list[int] | None = None,
        job_type: JobType | None = None,
    ) -> Job:
        """A job booked a few days ahead, with one appointment in the ``hour`` arrival window."""
        t = self.t
        if job_type is None:
            job_type = self.rng.choice(
                [j for j in t.job_types.values() if j.active and unit.id in j.business_unit_ids]
            )
        start = self.local(day, hour)
        created = min(
            self.anchor, start - timedelta(days=self.rng.randint(1, 10), hours=self.rng.randint(0, 8))
        )
        campaigns = [t.campaign_named(c[0]) for c in CAMPAIGNS]
        campaign = self.rng.choices(campaigns, weights=[c[5] for c in CAMPAIGNS])[0]
        if technician_ids is None:
            crew = [
                x.id
                for x in t.technicians.values()
                if x.active and x.business_unit_id == unit.id and set(job_type.skills) <= x.skill_names
            ]
            technician_ids = [self.rng.choice(crew)] if crew else []
        booked_by = t.employee_named(self.rng.choice(("Rosa Jimenez", "Marcus Bell", "Dana Whitfield"))).id
        job = Job(
            id=t.new_id("job"),
            job_number=t.new_job_number(),
            customer_id=customer.id,
            location_id=t.customer_locations(customer.id)[0].id,
            business_unit_id=unit.id,
            job_type_id=job_type.id,
            priority=job_type.priority,
            campaign_id=campaign.id,
            status="Scheduled",
            created_on=created,
            modified_on=created,
            created_by_id=booked_by,
            summary=self.rng.choice(SUMMARIES[job_type.name]),
        )
        t.add_job(job)
        end = start + timedelta(seconds=job_type.duration_seconds)
        window = (start, start + timedelta(hours=2))
        t.add_appointment(job, start, end, window, technician_ids, created_on=created)
        return job

    def cancel(self, job: Job) -> None:
        when = job.created_on + timedelta(hours=2)
        job.status, job.cancel_reason_id, job.modified_on = (
            "Canceled",
            self.rng.choice(list(self.t.cancel_reasons)),
            when,
        )
        job.notes.append(
            JobNote("Job canceled: customer called to cancel", False, job.created_by_id, when, when)
        )
        for appointment in self.t.job_appointments(job):
            appointment.status, appointment.modified_on = "Canceled", when

    def complete(self, job: Job, customer: Customer) -> None:
        t = self.t
        appointment = t.job_appointments(job)[0]
        appointment.status, appointment.modified_on = "Done", appointment.end
        job.status, job.completed_on = "Completed", appointment.end
        job.modified_on = appointment.end + timedelta(hours=1)
        invoice = t.invoices[job.invoice_id]
        catalog = ITEMS[t.business_units[job.business_unit_id].trade[1]]
        lines = [catalog[0], *self.rng.sample(catalog[1:], k=self.rng.randint(0, 2))]
        techs = t.appointment_technician_ids(appointment.id)
        for order, (sku, description, kind, price, cost) in enumerate(lines, start=1):
            item = InvoiceItem(
                id=t.new_id("invoice_item"),
                sku_id=t.new_id("sku"),
                sku_name=sku,
                description=description,
                type=kind,
                quantity=1.0,
                price=price,
                cost=cost,
                order=order,
                created_on=appointment.end,
                modified_on=appointment.end,
                technician_id=techs[0] if techs else None,
                taxable=kind == "Material",
            )
            invoice.items.append(item)
        invoice.tax_rate = self.region_of(customer).tax_rate
        invoice.invoice_date = invoice.due_date = appointment.end
        invoice.status = "Exported" if appointment.end < self.anchor - timedelta(days=60) else "Posted"
        invoice.modified_on = appointment.end + timedelta(days=1)
        invoice.summary = job.summary
        if self.rng.random() < 0.9:
            invoice.amount_paid, invoice.paid_on = invoice.total, appointment.end
        else:
            customer.balance = round(customer.balance + invoice.balance, 2)

    def memberships(self) -> None:
        """Peak Comfort Club: nine active members (Jordan Avery among them), two expired, one canceled."""
        t = self.t
        membership_type = t.new_id("membership_type")
        member_tag = t.tag_type_named("Member").id
        candidates = [
            c for c in t.customers.values() if self.region_of(c).key in ("denver", "boulder", "tampa")
        ]
        chosen = [c for c in candidates if c.name == "Jordan Avery"]
        chosen += self.rng.sample([c for c in candidates if c not in chosen], k=11)
        for index, customer in enumerate(chosen):
            status = "Active" if index < 9 else "Expired" if index < 11 else "Canceled"
            start = self.past(40, 330) if status == "Active" else self.past(400, 700)
            end = start + timedelta(days=365)
            unit = self.bu["HVAC - Tampa" if customer.address.state == "FL" else "HVAC"]
            membership = Membership(
                id=t.new_id("membership"),
                customer_id=customer.id,
                location_id=t.customer_locations(customer.id)[0].id,
                business_unit_id=unit.id,
                membership_type_id=membership_type,
                status=status,
                billing_frequency=self.rng.choice(("Annual", "Monthly")),
                start=start,
                end=end,
                duration_months=12,
                created_on=start,
                modified_on=start if status == "Active" else end,
                follow_up_on=end - timedelta(days=30),
                created_by_id=t.employee_named("Alicia Grant").id,
                sold_by_id=t.technician_named("Mike Brennan").id,
                next_scheduled_bill_date=end if status == "Active" else None,
                cancellation_date=end - timedelta(days=90) if status == "Canceled" else None,
                initial_deferred_revenue=199.0,
                memo="Peak Comfort Club: two tune-ups a year, 15% off repairs",
                active=status != "Canceled",
            )
            t.memberships[membership.id] = membership
            if status == "Active" and member_tag not in customer.tag_type_ids:
                customer.tag_type_ids.append(member_tag)

    # -- the next two weeks -------------------------------------------------------------------------
    def bookings(self) -> None:
        """Book about a third of the on-shift technician windows of the next 14 days; leave three
        appointments without a technician (they still take capacity, see capacity.py rule 4)."""
        t = self.t
        pools: dict[str, list[Customer]] = {}
        for customer in t.customers.values():
            if not customer.do_not_service:
                pools.setdefault(self.region_of(customer).key, []).append(customer)
        pools["denver"] += pools["boulder"]
        techs = [x for x in t.technicians.values() if x.active]
        for offset in range(14):
            day = self.today + timedelta(days=offset)
            for hour in WINDOW_HOURS:
                start, end = self.local(day, hour), self.local(day, hour + 2)
                if end <= self.anchor:
                    continue
                for tech in techs:
                    if not self.on_shift(tech.id, start, end) or self.rng.random() > BOOKED_SHARE:
                        continue
                    unit = t.business_units[tech.business_unit_id]
                    region = next(key for key, names in REGION_UNITS.items() if unit.name in names)
                    job_types = [
                        j
                        for j in t.job_types.values()
                        if j.active
                        and unit.id in j.business_unit_ids
                        and set(j.skills) <= tech.skill_names
                        and not j.is_emergency
                    ]
                    customer = self.rng.choice(pools[region])
                    job = self.job(customer, unit, day, hour, [tech.id], self.rng.choice(job_types))
                    self.in_progress(job, start, end)
        for offset in (2, 4, 6):
            day = self.today + timedelta(days=offset)
            day += timedelta(days=2 if day.weekday() >= 5 else 0)
            unit = self.bu[self.rng.choice(("HVAC", "Plumbing"))]
            job = self.job(self.rng.choice(pools["denver"]), unit, day, self.rng.choice((10, 12, 14)), [])
            text = "Customer asked for a call 30 minutes ahead."
            job.notes.append(JobNote(text, False, job.created_by_id, job.created_on, job.created_on))

    def in_progress(self, job: Job, start: datetime, end: datetime) -> None:
        """Today's running window is being worked; the next one has its technicians on the way."""
        appointment = self.t.job_appointments(job)[0]
        if start <= self.anchor < end:
            appointment.status = "Working"
        elif self.anchor < start <= self.anchor + timedelta(hours=2):
            appointment.status = "Dispatched"
        else:
            return
        appointment.modified_on = min(self.anchor, max(job.created_on, start - timedelta(hours=1)))
        self.t.sync_job(job, touched=appointment.modified_on)

    # -- leads and tasks ----------------------------------------------------------------------------
    def leads(self) -> None:
        t = self.t
        for (
            name,
            region_key,
            zip_code,
            street,
            phone,
            email,
            campaign,
            type_name,
            summary,
            hours,
        ) in OPEN_LEADS:
            region = REGIONS[region_key]
            created = self.anchor - timedelta(hours=hours, minutes=self.rng.randint(0, 50))
            job_type = t.job_type_named(type_name)
            unit = next((u for u in self.units_for(region) if u.id in job_type.business_unit_ids), None)
            self.used_phones.add(phone_digits(phone))
            lead = Lead(
                id=t.new_id("lead"),
                status="Open",
                priority=job_type.priority,
                campaign_id=t.campaign_named(campaign).id,
                summary=summary,
                created_on=created,
                modified_on=created,
                created_by_id=t.api_user_id,
                business_unit_id=unit.id if unit else None,
                job_type_id=job_type.id,
                capture_source="Api",
                lead_customer_name=name,
                lead_phone=phone,
                lead_email=email,
                lead_street=street,
                lead_city=region.city,
                lead_state=region.state,
                lead_zip=zip_code,
                lead_country="USA",
            )
            t.leads[lead.id] = lead
        self.closed_leads()

    def closed_leads(self) -> None:
        """An open lead from a member, and older dismissed / converted ones."""
        t = self.t
        jordan = t.customers_by_phone("3035550142")[0]
        when = self.anchor - timedelta(hours=4)
        repeat = Lead(
            id=t.new_id("lead"),
            status="Open",
            priority="Normal",
            campaign_id=t.campaign_named("Website").id,
            summary="Member asking to book the spring AC tune-up.",
            created_on=when,
            modified_on=when,
            created_by_id=t.api_user_id,
            customer_id=jordan.id,
            location_id=t.customer_locations(jordan.id)[0].id,
            business_unit_id=self.bu["HVAC"].id,
            job_type_id=t.job_type_named("HVAC Maintenance").id,
            capture_source="Form",
            lead_customer_name=jordan.name,
            lead_phone="3035550142",
            lead_email="jordan.avery@example.com",
        )
        t.leads[repeat.id] = repeat
        for status in ("Dismissed", "Dismissed", "Converted", "Converted"):
            created = self.past(3, 40)
            region = REGIONS[self.rng.choice(("denver", "boulder", "tampa", "austin"))]
            customer = self.rng.choice([c for c in t.customers.values() if c.address.city == region.city])
            converted = status == "Converted"
            lead = Lead(
                id=t.new_id("lead"),
                status=status,
                priority="Normal",
                campaign_id=t.campaign_named(self.rng.choice(("Angi", "Google LSA", "Thumbtack"))).id,
                summary=self.rng.choice(("Wants a quote", "Asked about pricing", "Needs service this week")),
                created_on=created,
                modified_on=created + timedelta(hours=3),
                created_by_id=t.api_user_id,
                customer_id=customer.id if converted else None,
                dismissing_reason_id=None if converted else 1_000_000 + self.rng.randint(1, 5),
                capture_source="Api",
                lead_customer_name=customer.name if converted else "Unknown caller",
                lead_phone=self.phone(region.area_codes[0]),
                lead_city=region.city,
                lead_state=region.state,
                lead_zip=self.rng.choice(region.zips),
                lead_country="USA",
            )
            t.leads[lead.id] = lead

    def tasks(self) -> None:
        t = self.t
        created = self.anchor - timedelta(days=2, hours=3)
        closed = created + timedelta(hours=2)
        task = Task(
            id=t.new_id("task"),
            task_number=t.new_task_number(),
            name="Call back: outside service area",
            reported_by_id=t.employee_named("Virtual Agent").id,
            assigned_to_id=t.employee_named("Dana Whitfield").id,
            business_unit_id=self.bu["HVAC"].id,
            type_id=next(x.id for x in t.task_types.values() if x.name == "Call Back"),
            source_id=next(x.id for x in t.task_sources.values() if x.name == "Virtual Agent"),
            priority="Normal",
            status="Completed",
            is_closed=True,
            reported_on=created,
            created_on=created,
            modified_on=closed,
            closed_on=closed,
            resolution_id=next(x.id for x in t.task_resolutions.values() if x.name == "Resolved"),
            customer_id=t.customers_by_phone("7195550124")[0].id,
            description="Caller in Colorado Springs asked for AC service; referred out.",
        )
        t.tasks[task.id] = task
