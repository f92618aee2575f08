"""The seeded tenant: deterministic from the seed, anchored to the clock, believable."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from st_mcp.sandbox import SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app
from st_mcp.sandbox.capacity import CapacityQuery, compute_capacity
from st_mcp.sandbox.state import ID_BASES

from .conftest import MONDAY_9AM


def seeded(seed: int = 7, now: datetime = MONDAY_9AM) -> SandboxTenant:
    return create_sandbox_app(SandboxConfig(seed=seed, clock=SandboxClock(now))).state.sandbox


def test_same_seed_same_tenant_and_other_seed_differs() -> None:
    assert seeded(7).fingerprint() == seeded(7).fingerprint()
    # Within the same clock hour the tenant is stable, even on a moving clock.
    assert seeded(7, MONDAY_9AM + timedelta(minutes=40)).fingerprint() == seeded(7).fingerprint()
    other = seeded(8)
    assert other.fingerprint() != seeded(7).fingerprint()
    assert {c.name for c in other.customers.values()} != {c.name for c in seeded(7).customers.values()}


def test_reference_data() -> None:
    t = seeded()
    trades = {u.name: u.trade[1] for u in t.business_units.values() if u.active}
    assert trades == {
        "HVAC": "HVAC",
        "Plumbing": "Plumbing",
        "Electrical": "Electrical",
        "Garage Door": "Garage Door",
        "HVAC - Tampa": "HVAC",
        "Plumbing - Austin": "Plumbing",
    }
    job_types = {j.name: j for j in t.job_types.values() if j.active}
    assert len(job_types) == 12
    assert (
        job_types["Heating Repair"].skills == ["Heating"]
        and job_types["Heating Repair"].duration_seconds == 7200
    )
    assert job_types["Emergency Plumbing"].priority == "Urgent"
    assert {t.business_units[i].name for i in job_types["Drain Cleaning"].business_unit_ids} == {
        "Plumbing",
        "Plumbing - Austin",
    }
    assert {"Angi", "Google LSA", "Website", "Thumbtack", "Virtual Agent"} <= {
        c.name for c in t.campaigns.values()
    }
    assert [c.name for c in t.campaigns.values() if c.is_default] == ["Direct / Unknown"]
    assert t.tag_type_named("AI Booked").active
    assert len([x for x in t.technicians.values() if x.active]) == 12
    assert {z.name for z in t.zones.values()} == {"Denver Metro", "Boulder", "Tampa Bay", "Austin"}
    assert all(z.startswith("336") for z in t.zones[t.zone_for_zip("33606").id].zips)
    assert t.zone_for_zip("80903") is None  # Colorado Springs is outside the service area
    names = {e.name for e in t.employees.values()}
    assert {"Virtual Agent", "Dana Whitfield"} <= names
    assert {x.name for x in t.task_types.values()} >= {"Call Back", "Escalation"}
    assert "Virtual Agent" in {x.name for x in t.task_sources.values()}


def test_ids_use_distinct_servicetitan_like_ranges() -> None:
    t = seeded()
    for kind, records in (
        ("customer", t.customers),
        ("job", t.jobs),
        ("appointment", t.appointments),
        ("technician", t.technicians),
        ("lead", t.leads),
    ):
        assert all(ID_BASES[kind] < i < ID_BASES[kind] + 100_000 for i in records), kind


def test_customers_history_and_memberships() -> None:
    t = seeded()
    assert len(t.customers) == 50
    kinds = Counter(c.type for c in t.customers.values())
    assert kinds["Residential"] > 40 and kinds["Commercial"] >= 2
    assert any(c.do_not_service for c in t.customers.values())
    out_of_area = [loc for loc in t.locations.values() if loc.zone_id is None]
    assert {t.customers[loc.customer_id].address.city for loc in out_of_area} >= {"Colorado Springs"}
    jordan = t.customers_by_phone("(303) 555-0142")[0]
    past = [j for j in t.jobs.values() if j.customer_id == jordan.id and j.status == "Completed"]
    assert len(past) == 2 and all(t.invoices[j.invoice_id].total > 0 for j in past)
    assert any(m.customer_id == jordan.id and m.status == "Active" for m in t.memberships.values())
    formats = {c.value[0] == "(" for c in t.customers[jordan.id + 1].contacts if c.type != "Email"}
    assert formats == {True}  # stored formatted, as ServiceTitan often has them


def test_next_two_weeks_are_partly_booked_whatever_the_date() -> None:
    for now in (MONDAY_9AM, datetime(2027, 7, 21, 19, 30, tzinfo=UTC)):
        t = seeded(now=now)
        upcoming = [a for a in t.appointments.values() if now < a.start < now + timedelta(days=14)]
        assert any(not t.appointment_technician_ids(a.id) for a in upcoming)  # some unassigned
        frames = compute_capacity(t, CapacityQuery(now, now + timedelta(days=14)), now)
        total = sum(f.total_hours for f in frames)
        booked = total - sum(f.open_hours for f in frames)
        assert 0.2 < booked / total < 0.5  # partly booked: roughly a third
        assert any(not f.is_available for f in frames) and any(f.is_available for f in frames)
        kinds = Counter(s.shift_type for s in t.shifts.values() if s.start > now)
        assert kinds["Normal"] > 100 and kinds["OnCall"] > 10 and kinds["TimeOff"] >= 2
        open_leads = [x for x in t.leads.values() if x.status == "Open"]
        assert all(now - timedelta(days=1) <= x.created_on <= now for x in open_leads)
        assert {x.lead_state for x in open_leads} >= {"FL", "TX", "CO"}


def test_today_has_work_in_progress() -> None:
    t = seeded()
    statuses = Counter(a.status for a in t.appointments.values() if a.start.date() == MONDAY_9AM.date())
    assert statuses["Working"] >= 1 and statuses["Dispatched"] >= 1
