"""Fixed reference data of the seeded tenant, "Peak Home Services" (Denver CO, branches in Tampa FL and
Austin TX). Tables only; seed.py turns them into records. Phone numbers are fictional (555-01xx)."""

# ruff: noqa: E501  (one record per line reads better than wrapped tuples in a data table)
from __future__ import annotations

from dataclasses import dataclass

DOMAIN = "peakhome.example.com"


@dataclass(frozen=True)
class Region:
    key: str
    city: str
    state: str
    zips: tuple[str, ...]
    streets: tuple[str, ...]
    area_codes: tuple[str, ...]
    lat: float
    lon: float
    tax_rate: float
    zone: str | None  # None: outside every service zone


# fmt: off
REGIONS = {
    "denver": Region(
        "denver", "Denver", "CO",
        ("80202", "80203", "80204", "80205", "80206", "80207", "80209", "80210", "80211", "80212", "80218",
         "80219", "80220", "80222", "80223", "80224", "80227", "80230", "80231", "80237", "80238", "80246"),
        ("S Pearl St", "E Colfax Ave", "York St", "Downing St", "W 32nd Ave", "S Broadway", "E 17th Ave",
         "Tennyson St", "S Gaylord St", "E Evans Ave", "S Holly St", "E Alameda Ave", "Lowell Blvd",
         "S University Blvd", "Clarkson St"),
        ("303", "720"), 39.7392, -104.9903, 0.0881, "Denver Metro",
    ),
    "boulder": Region(
        "boulder", "Boulder", "CO", ("80301", "80302", "80303", "80304", "80305"),
        ("Pine St", "Mapleton Ave", "Baseline Rd", "Folsom St", "Table Mesa Dr", "Arapahoe Ave", "Iris Ave"),
        ("303", "720"), 40.0150, -105.2705, 0.0886, "Boulder",
    ),
    "tampa": Region(
        "tampa", "Tampa", "FL",
        ("33602", "33603", "33604", "33606", "33607", "33609", "33610", "33611", "33612", "33613", "33614",
         "33615", "33616", "33618", "33629", "33647"),
        ("Bayshore Blvd", "W Kennedy Blvd", "S Dale Mabry Hwy", "N Florida Ave", "W Swann Ave", "E Fowler Ave",
         "W Hillsborough Ave", "S MacDill Ave"),
        ("813",), 27.9506, -82.4572, 0.075, "Tampa Bay",
    ),
    "austin": Region(
        "austin", "Austin", "TX",
        ("78701", "78702", "78703", "78704", "78705", "78721", "78722", "78723", "78731", "78741", "78745",
         "78748", "78749", "78751", "78756", "78757"),
        ("S Congress Ave", "Barton Springs Rd", "Guadalupe St", "E Cesar Chavez St", "Manor Rd", "Burnet Rd",
         "S Lamar Blvd", "W Koenig Ln"),
        ("512", "737"), 30.2672, -97.7431, 0.0825, "Austin",
    ),
    "springs": Region(
        "springs", "Colorado Springs", "CO", ("80903", "80904", "80905"), ("N Tejon St", "W Uintah St"),
        ("719",), 38.8339, -104.8214, 0.0825, None,
    ),
    "fortcollins": Region(
        "fortcollins", "Fort Collins", "CO", ("80521", "80524"), ("W Mulberry St", "Laporte Ave"),
        ("970",), 40.5853, -105.0844, 0.0855, None,
    ),
}

# name, trade, home region, active
BUSINESS_UNITS = [
    ("HVAC", "HVAC", "denver", True),
    ("Plumbing", "Plumbing", "denver", True),
    ("Electrical", "Electrical", "denver", True),
    ("Garage Door", "Garage Door", "denver", True),
    ("HVAC - Tampa", "HVAC", "tampa", True),
    ("Plumbing - Austin", "Plumbing", "austin", True),
    ("Solar", "Solar", "denver", False),
]
TRADE_IDS = {"HVAC": 1, "Plumbing": 2, "Electrical": 3, "Garage Door": 4, "Solar": 5}
DENVER_UNITS = ("HVAC", "Plumbing", "Electrical", "Garage Door")
# which business units serve a region (and the zone named after it)
REGION_UNITS = {"denver": DENVER_UNITS, "boulder": DENVER_UNITS, "tampa": ("HVAC - Tampa",), "austin": ("Plumbing - Austin",)}

SKILLS = (
    "Heating", "Cooling", "HVAC Maintenance", "Comfort Advisor", "Plumbing Service", "Drain Cleaning",
    "Water Heater", "Emergency", "Electrical Service", "Panel Upgrade", "Garage Door", "Garage Door Opener",
)

# name, trade, priority, duration (s), skills, class, summary, active
JOB_TYPES = [
    ("Heating Repair", "HVAC", "Normal", 7200, ("Heating",), "Service",
     "Diagnose and repair a furnace, boiler or heat pump that is not heating.", True),
    ("No Cool / AC Repair", "HVAC", "Normal", 7200, ("Cooling",), "Service",
     "Diagnose and repair an air conditioner or heat pump that is not cooling.", True),
    ("HVAC Maintenance", "HVAC", "Low", 5400, ("HVAC Maintenance",), "Maintenance",
     "Seasonal tune-up of heating or cooling equipment.", True),
    ("Furnace Install Estimate", "HVAC", "Normal", 3600, ("Comfort Advisor",), "Sales",
     "In-home visit to quote a new furnace or heat pump.", True),
    ("Drain Cleaning", "Plumbing", "Normal", 5400, ("Drain Cleaning",), "Service",
     "Clear a clogged sink, tub, toilet or main line.", True),
    ("Water Heater Repair", "Plumbing", "Normal", 7200, ("Water Heater",), "Service",
     "No hot water, leaking tank or pilot problems.", True),
    ("Leak Repair", "Plumbing", "High", 5400, ("Plumbing Service",), "Service",
     "Locate and repair a leaking pipe, valve or fixture.", True),
    ("Emergency Plumbing", "Plumbing", "Urgent", 7200, ("Plumbing Service", "Emergency"), "Service",
     "Burst pipe, flooding or sewage backup — same day.", True),
    ("Electrical Troubleshooting", "Electrical", "Normal", 5400, ("Electrical Service",), "Service",
     "Dead outlets, tripping breakers, flickering lights.", True),
    ("Panel Upgrade Estimate", "Electrical", "Normal", 3600, ("Panel Upgrade",), "Sales",
     "Quote a main panel upgrade or EV-charger circuit.", True),
    ("Garage Door Repair", "Garage Door", "Normal", 5400, ("Garage Door",), "Service",
     "Broken spring, off-track door, noisy rollers.", True),
    ("Garage Door Opener Install", "Garage Door", "Low", 7200, ("Garage Door Opener",), "Install",
     "Install or replace a garage door opener.", True),
    ("Duct Cleaning", "HVAC", "Low", 10800, ("HVAC Maintenance",), "Service", "No longer offered.", False),
]

# name, business unit, skills, zones, active
_DENVER_ZONES = ("Denver Metro", "Boulder")
TECHNICIANS = [
    ("Mike Brennan", "HVAC", ("Heating", "Cooling", "HVAC Maintenance", "Comfort Advisor"), _DENVER_ZONES, True),
    ("Carlos Ortega", "HVAC", ("Cooling", "HVAC Maintenance"), _DENVER_ZONES, True),
    ("Tasha Reid", "HVAC", ("Heating", "Cooling", "HVAC Maintenance", "Emergency"), _DENVER_ZONES, True),
    ("Dave Kowalski", "Plumbing", ("Plumbing Service", "Drain Cleaning", "Water Heater", "Emergency"), _DENVER_ZONES, True),
    ("Sam Patel", "Plumbing", ("Plumbing Service", "Drain Cleaning"), _DENVER_ZONES, True),
    ("Erin Walsh", "Electrical", ("Electrical Service", "Panel Upgrade"), _DENVER_ZONES, True),
    ("Marcus Lee", "Electrical", ("Electrical Service",), _DENVER_ZONES, True),
    ("Tony Russo", "Garage Door", ("Garage Door", "Garage Door Opener"), _DENVER_ZONES, True),
    ("Luis Herrera", "HVAC - Tampa", ("Heating", "Cooling", "HVAC Maintenance", "Emergency"), ("Tampa Bay",), True),
    ("Jenna Brooks", "HVAC - Tampa", ("Cooling", "HVAC Maintenance"), ("Tampa Bay",), True),
    ("Cody Nguyen", "Plumbing - Austin", ("Plumbing Service", "Drain Cleaning", "Water Heater", "Emergency"), ("Austin",), True),
    ("Ben Carter", "Plumbing - Austin", ("Plumbing Service", "Drain Cleaning"), ("Austin",), True),
    ("Greg Lyle", "HVAC", ("Cooling",), ("Denver Metro",), False),  # left the company
]
# units whose on-call phone rotates weekly among their technicians
ON_CALL_UNITS = ("HVAC", "Plumbing", "HVAC - Tampa", "Plumbing - Austin")

# name, category, source, medium, is default, weight when seeding past jobs, active
CAMPAIGNS = [
    ("Angi", "Lead Aggregators", "Angi", "Referral", False, 2, True),
    ("Google LSA", "Paid Search", "Google", "Local Services Ads", False, 3, True),
    ("Website", "Website", "Website", "Organic", False, 3, True),
    ("Thumbtack", "Lead Aggregators", "Thumbtack", "Referral", False, 1, True),
    ("Virtual Agent", "AI Agent", "Virtual Agent", "SMS", False, 0, True),
    ("Direct / Unknown", "Other", None, None, True, 3, True),
    ("Yard Signs 2023", "Print", "Yard Signs", "Print", False, 0, False),
]

# name, color, code, importance, active
TAG_TYPES = [
    ("AI Booked", "#6D28D9", "AIB", "High", True),
    ("Member", "#0E7C66", "MBR", "Medium", True),
    ("Warranty", "#B45309", "WTY", "Medium", True),
    ("VIP", "#BE123C", "VIP", "High", True),
    ("Second Opinion", "#64748B", "2ND", None, False),
]
# name, active
CANCEL_REASONS = [
    ("Customer canceled", True), ("Scheduling conflict", True), ("Hired another company", True),
    ("Price / estimate too high", True), ("Duplicate booking", True), ("Booked in error", True), ("Weather", False),
]
# name, role (office staff; API writes are attributed to "API Integration")
EMPLOYEES = [
    ("API Integration", "Integration"),
    ("Virtual Agent", "Virtual Agent"),
    ("Dana Whitfield", "Dispatcher"),
    ("Kevin Park", "Dispatcher"),
    ("Rosa Jimenez", "CSR"),
    ("Marcus Bell", "CSR"),
    ("Alicia Grant", "Office Manager"),
]
TASK_TYPES = ("Call Back", "Escalation", "Follow Up", "Complaint", "Billing Question")
TASK_SOURCES = ("Virtual Agent", "Phone", "Email", "Web Form", "Internal")
TASK_RESOLUTIONS = (("Resolved", "Custom"), ("Customer Unreachable", "Custom"), ("Refund Issued", "Refund"),
                    ("Duplicate", "Custom"))

# Named customers, the same under every seed: name, type, region, street, zip, phone, email, flag
ANCHOR_CUSTOMERS = [
    ("Jordan Avery", "Residential", "denver", "1420 S Pearl St", "80210", "3035550142", "jordan.avery@example.com", "member"),
    ("Priya Raman", "Residential", "boulder", "2875 Pine St", "80302", "(720) 555-0118", "priya.raman@example.net", ""),
    ("Bayshore Bistro", "Commercial", "tampa", "2210 Bayshore Blvd", "33606", "(813) 555-0190",
     "manager@bayshorebistro.example.com", ""),
    ("Lucas Moreno", "Residential", "austin", "1808 S 5th St", "78704", "512-555-0163", "lucas.moreno@example.org", ""),
    ("Harold Kessler", "Residential", "springs", "415 N Tejon St", "80903", "7195550124", None, ""),
    ("Gloria Pruitt", "Residential", "denver", "3345 W 38th Ave", "80211", "(303) 555-0177", None, "do-not-service"),
    ("Mile High Dental Group", "Commercial", "denver", "1600 Stout St", "80202", "3035550150",
     "office@milehighdental.example.com", ""),
]
# How many more (seeded) customers each region gets: 43 + 7 named = 50.
REGION_COUNTS = {"denver": 22, "boulder": 8, "tampa": 6, "austin": 6, "fortcollins": 1}

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda", "David", "Elizabeth",
    "Richard", "Barbara", "Joseph", "Susan", "Thomas", "Jessica", "Christopher", "Sarah", "Daniel", "Karen",
    "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Betty", "Steven", "Sandra", "Andrew", "Ashley", "Kevin",
    "Emily", "Brian", "Michelle", "Tyler", "Megan", "Nathan", "Rachel", "Aaron", "Olivia", "Diego", "Mei",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
)
COMMERCIAL_NAMES = {
    "denver": ("Cherry Creek Property Management", "Highlands Yoga Studio", "Wash Park Pet Clinic", "RiNo Brewing Co."),
    "boulder": ("Pearl Street Books", "Flatirons Family Dental"),
    "tampa": ("Sunshine Daycare of Tampa", "Hyde Park Law Offices"),
    "austin": ("Eastside Coworking", "Zilker Taqueria"),
}

# Invoice lines per trade: sku, description, type, price, cost
ITEMS = {
    "HVAC": [
        ("HVAC-DIAG", "Diagnostic / service call", "Service", 89.0, 0.0),
        ("HVAC-TUNEUP", "Precision tune-up", "Service", 149.0, 0.0),
        ("IGN-HSI", "Hot surface igniter", "Material", 185.0, 38.0),
        ("CAP-45-5", "Dual run capacitor 45/5 MFD", "Material", 165.0, 14.0),
        ("FLTR-16x25", "Pleated filter 16x25x1", "Material", 24.0, 6.0),
    ],
    "Plumbing": [
        ("PLB-DIAG", "Plumbing service call", "Service", 79.0, 0.0),
        ("DRAIN-MAIN", "Main line drain cleaning", "Service", 249.0, 0.0),
        ("WH-FLUSH", "Water heater flush", "Service", 129.0, 0.0),
        ("WH-THERMO", "Water heater thermocouple", "Material", 95.0, 12.0),
        ("PLB-LEAK", "Leak repair, first hour", "Service", 195.0, 0.0),
    ],
    "Electrical": [
        ("ELEC-DIAG", "Electrical troubleshooting", "Service", 99.0, 0.0),
        ("GFCI", "GFCI outlet install", "Material", 145.0, 18.0),
        ("BRKR-20", "20A breaker replacement", "Material", 175.0, 12.0),
    ],
    "Garage Door": [
        ("GD-DIAG", "Garage door service call", "Service", 79.0, 0.0),
        ("GD-SPRING", "Torsion spring replacement (pair)", "Material", 325.0, 60.0),
        ("GD-ROLLERS", "Nylon roller set", "Material", 145.0, 25.0),
    ],
}
SUMMARIES = {
    "Heating Repair": ("Furnace blowing cold air", "No heat upstairs", "Furnace short-cycles and clicks"),
    "No Cool / AC Repair": ("AC running but not cooling", "Outdoor unit not turning on", "Ice on the refrigerant line"),
    "HVAC Maintenance": ("Spring AC tune-up", "Fall furnace tune-up (member)", "Annual maintenance visit"),
    "Furnace Install Estimate": ("Furnace is 22 years old, wants a quote", "Quote for heat pump conversion"),
    "Drain Cleaning": ("Kitchen sink backing up", "Basement floor drain slow", "Main line clog, toilets gurgling"),
    "Water Heater Repair": ("No hot water", "Water heater leaking at the base", "Pilot light keeps going out"),
    "Leak Repair": ("Leak under the bathroom sink", "Ceiling stain under the upstairs bath", "Hose bib dripping"),
    "Emergency Plumbing": ("Burst pipe in the crawl space", "Sewage backing up into the basement"),
    "Electrical Troubleshooting": ("Half the kitchen outlets are dead", "Breaker trips when the microwave runs"),
    "Panel Upgrade Estimate": ("Needs 200A panel for an EV charger", "Old Federal Pacific panel, wants a quote"),
    "Garage Door Repair": ("Spring snapped, door will not open", "Door came off its track"),
    "Garage Door Opener Install": ("Replace a 20-year-old chain opener", "Install a new belt-drive opener"),
}

# Open leads: name, region, zip, street, phone as typed, email, campaign, job type, summary, hours ago
OPEN_LEADS = [
    ("Karen Whitmore", "denver", "80220", "1875 Glencoe St", "(720) 555-0193", "karen.whitmore@example.com", "Angi",
     "Heating Repair", "Furnace makes a loud bang when it starts, then no heat.", 1),
    ("Derek Olsen", "boulder", "80304", "3120 9th St", "303-555-0107", None, "Google LSA",
     "Drain Cleaning", "Kitchen sink and dishwasher both draining slowly.", 3),
    ("Sofia Alvarez", "tampa", "33609", "4012 W Bay Ave", "+1 813-555-0171", "sofia.alvarez@example.com", "Thumbtack",
     "No Cool / AC Repair", "AC blowing warm air since last night, house is 84 degrees.", 5),
    ("Marcus Dunn", "tampa", "33612", "9830 N 12th St", "8135550186", None, "Angi",
     "HVAC Maintenance", "Wants a tune-up before summer.", 9),
    ("Emily Tran", "austin", "78745", "6104 Cherry Meadow Dr", "(512) 555-0138", "emily.tran@example.org", "Website",
     "Water Heater Repair", "No hot water, tank is 11 years old.", 14),
    ("Greg Hollis", "denver", "80209", "611 S Race St", "7205550156", "ghollis@example.net", "Google LSA",
     "Garage Door Repair", "Garage door spring broke, car is stuck inside.", 2),
    ("Nina Petrova", "springs", "80905", "27 W Cheyenne Rd", "(719) 555-0146", None, "Angi",
     "Leak Repair", "Leak under the kitchen sink.", 6),
]
# fmt: on
