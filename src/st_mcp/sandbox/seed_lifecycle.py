"""Seeds what a customer's history shows after the booking: installed equipment (make, model, age) and the
calls they made (estimates come with the revenue seed). Its own random stream, so adding it changes nothing
the rest of the seed makes."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .entities import InstalledEquipment, TelecomCall
from .state import SandboxTenant, phone_digits

# (type, name, manufacturer, models) — what a PHEG contractor finds in a Front Range house.
EQUIPMENT = (
    ("Furnace", "Gas furnace", "Carrier", ("59SC5A060E17", "58STA090")),
    ("Furnace", "Gas furnace", "Lennox", ("ML180UH070", "EL296V")),
    ("Air Conditioner", "Central air conditioner", "Trane", ("XR14 4TTR4036", "XR16")),
    ("Air Conditioner", "Central air conditioner", "Goodman", ("GSX140361",)),
    ("Water Heater", "Tank water heater", "Rheem", ("XG50T06EC36U1", "PROG40")),
    ("Water Heater", "Tankless water heater", "Navien", ("NPE-240A2",)),
    ("Garage Door Opener", "Garage door opener", "LiftMaster", ("8500W", "87504")),
    ("Electrical Panel", "Main panel", "Square D", ("QO142M200",)),
)
EQUIPMENT_TYPE_IDS = {"Furnace": 1, "Air Conditioner": 2, "Water Heater": 3, "Garage Door Opener": 4,
                      "Electrical Panel": 5}  # fmt: skip
CALL_REASONS = ("Service request", "Schedule change", "Billing question", "Follow-up")
OFFICE_NUMBER = "3035550100"


def seed_after_booking(tenant: SandboxTenant, seed: int, anchor: datetime) -> None:
    rng = random.Random(f"after-booking:{seed}")
    founded = anchor - timedelta(days=3 * 365)
    agents = [e.id for e in tenant.employees.values() if e.active]
    for location in sorted(tenant.locations.values(), key=lambda x: x.id):
        for kind, name, make, models in rng.sample(EQUIPMENT, k=rng.choice((1, 2, 2, 3))):
            installed = anchor - timedelta(days=rng.randint(365, 20 * 365))
            created = max(founded, installed)
            item = InstalledEquipment(
                id=tenant.new_id("installed_equipment"),
                location_id=location.id,
                customer_id=location.customer_id,
                name=name,
                type_id=EQUIPMENT_TYPE_IDS[kind],
                type_name=kind,
                manufacturer=make,
                model=rng.choice(models),
                serial_number=f"{make[:2].upper()}{rng.randint(10**7, 10**8 - 1)}",
                installed_on=installed,
                manufactured_on=installed - timedelta(days=rng.randint(30, 200)),
                created_on=created,
                modified_on=created,
            )
            tenant.installed_equipment[item.id] = item
    campaigns = sorted(tenant.campaigns)
    for customer in sorted(tenant.customers.values(), key=lambda c: c.id):
        phones = [c.value for c in customer.contacts if c.type in ("Phone", "MobilePhone")]
        if not phones:
            continue
        jobs = sorted((j for j in tenant.jobs.values() if j.customer_id == customer.id), key=lambda j: j.id)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            received = anchor - timedelta(days=rng.uniform(1, 90))
            booked = bool(jobs) and rng.random() < 0.5
            record = TelecomCall(
                id=tenant.new_id("telecom_call"),
                received_on=received,
                duration_seconds=rng.randint(45, 600),
                from_number=phone_digits(phones[0]),
                to_number=OFFICE_NUMBER,
                direction="Inbound",
                call_type="Booked" if booked else rng.choice(("Unbooked", "Excused")),
                reason=rng.choice(CALL_REASONS),
                customer_id=customer.id,
                campaign_id=rng.choice(campaigns) if campaigns else None,
                agent_id=rng.choice(agents) if agents else None,
                business_unit_id=jobs[-1].business_unit_id if booked else None,
                job_number=jobs[-1].job_number if booked else None,
                created_on=received,
                modified_on=received,
            )
            tenant.telecom_calls[record.id] = record
