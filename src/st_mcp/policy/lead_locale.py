"""Where a lead is, for the rules that depend on it: the lead's state and local time zone (DESIGN §6).

Quiet hours are the *recipient's* local time and several states add their own rules, so the gate needs the
lead's state and zone, not the business's. Best evidence first: the service ZIP (it is where the work is,
so it wins over a state typed next to it), then the given state, then the phone's area code, and only then
the business's own zone — with no state, so no state rule is guessed. ``locales_for`` adds the area code's
place when it differs from the address (Florida and Oklahoma law presume an area code's resident), and the
rules then hold in both places at once.

ZIP data comes from ``zipcodes`` (bundled USPS data with IANA zones), area codes from the geodata of
``phonenumbers``, both through a compact index built from them (``locale_index.py``); the only
hand-written table is each state's main zone, used when all we have is a state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import AfterValidator

from st_mcp.policy.locale_index import index

LocaleSource = Literal["zip", "state", "area_code", "business"]

# Each state's (or territory's) zone for when only the state is known. Where a state spans two zones, the
# zone most of its people live in: FL Eastern (the western Panhandle is Central), TX Central (El Paso is
# Mountain), TN Central (Nashville and Memphis outweigh Knoxville and Chattanooga), KY and IN Eastern,
# MI Eastern (four Upper Peninsula counties are Central), KS, NE, ND, SD Central (their western parts are
# Mountain), ID Mountain (the northern Panhandle is Pacific), OR and NV Pacific, AK Anchorage (the far
# Aleutians are an hour behind). Arizona keeps standard time all year (the Navajo Nation does not).
STATE_ZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": "America/Chicago",
    "CA": "America/Los_Angeles", "CO": "America/Denver", "CT": "America/New_York",
    "DE": "America/New_York", "DC": "America/New_York", "FL": "America/New_York",
    "GA": "America/New_York", "HI": "Pacific/Honolulu", "ID": "America/Boise", "IL": "America/Chicago",
    "IN": "America/Indiana/Indianapolis", "IA": "America/Chicago", "KS": "America/Chicago",
    "KY": "America/New_York", "LA": "America/Chicago", "ME": "America/New_York",
    "MD": "America/New_York", "MA": "America/New_York", "MI": "America/Detroit",
    "MN": "America/Chicago", "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York", "OK": "America/Chicago",
    "OR": "America/Los_Angeles", "PA": "America/New_York", "RI": "America/New_York",
    "SC": "America/New_York", "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago",
    "UT": "America/Denver", "VT": "America/New_York", "VA": "America/New_York",
    "WA": "America/Los_Angeles", "WV": "America/New_York", "WI": "America/Chicago",
    "WY": "America/Denver", "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}  # fmt: skip

STATE_NAMES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "Washington D.C.", "FL": "Florida",
    "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri",
    "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio",
    "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico", "VI": "U.S. Virgin Islands", "GU": "Guam", "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
}  # fmt: skip

# Spellings that are not a state's plain name: the geocoder's ("Washington State", "Washington D.C.") and
# people's ("District of Columbia", "Virgin Islands").
_NAME_ALIASES = {
    "washington state": "WA",
    "washington d.c.": "DC",
    "washington dc": "DC",
    "district of columbia": "DC",
    "virgin islands": "VI",
}
_CODES_BY_NAME = {name.lower(): code for code, name in STATE_NAMES.items()} | _NAME_ALIASES

_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


@dataclass(frozen=True, slots=True)
class LeadLocale:
    """The lead's state (two-letter code, or None when unknown) and local time zone, and what told us."""

    state: str | None
    timezone: ZoneInfo
    source: LocaleSource


def locale_for(
    *, zip: str | None, state: str | None, phone: str | None, business_timezone: str
) -> LeadLocale:
    """The lead's state and zone from the best evidence at hand: ZIP, then state, then area code, then us."""
    by_zip = _from_zip(zip)
    if by_zip is not None:
        return by_zip
    code = state_code(state)
    if code is not None:
        return LeadLocale(code, ZoneInfo(STATE_ZONES[code]), "state")
    by_phone = _from_phone(phone)
    if by_phone is not None:
        return by_phone
    try:
        zone = ZoneInfo(business_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"business time zone {business_timezone!r} is not an IANA zone name such as America/Denver"
        ) from None
    return LeadLocale(None, zone, "business")


def locales_for(
    *, zip: str | None, state: str | None, phone: str | None, business_timezone: str
) -> tuple[LeadLocale, ...]:
    """Every place whose rules bind a text to this lead: the lead's own locale first (``locale_for``: the
    ZIP, else the state), then each other place the facts name — a state typed next to a ZIP of another
    state, the phone's area code when it names another state or zone. Florida and Oklahoma presume the
    holder of one of their area codes lives there, and when the facts disagree the safe reading is all of
    them at once (the strictest rule wins): a Denver ZIP on a Tampa number gets Colorado's *and*
    Florida's rules; a Denver ZIP with "HI" typed as the state gets Hawaii's too."""
    primary = locale_for(zip=zip, state=state, phone=phone, business_timezone=business_timezone)
    if primary.source not in ("zip", "state"):
        return (primary,)  # the area code already decided, or told us nothing
    places = [primary]
    typed = state_code(state)
    if primary.source == "zip" and typed is not None and typed != primary.state:
        places.append(LeadLocale(typed, ZoneInfo(STATE_ZONES[typed]), "state"))
    by_phone = _from_phone(phone)
    if by_phone is not None:
        places.append(by_phone)
    unique: dict[tuple[str | None, str], LeadLocale] = {}
    for place in places:
        unique.setdefault((place.state, str(place.timezone)), place)
    return tuple(unique.values())


def load_tables() -> None:
    """Read the locale index now (a few milliseconds) rather than in the first gate decision."""
    index()


def state_code(text: str | None) -> str | None:
    """'fl', ' FL ', 'Florida', 'Washington State' → the two-letter code; anything else → None."""
    cleaned = " ".join((text or "").split())
    if cleaned.upper() in STATE_ZONES:
        return cleaned.upper()
    return _CODES_BY_NAME.get(cleaned.lower())


def require_state_code(text: str) -> str:
    """A settings key naming a state: 'fl' or 'Florida' → 'FL'; anything else is a one-line error."""
    code = state_code(text)
    if code is None:
        raise ValueError(f"unknown state {text!r}; use a two-letter code such as FL")
    return code


# A state as a settings key ("FL", "fl", "Florida" → "FL").
StateCode = Annotated[str, AfterValidator(require_state_code)]


def state_name(code: str) -> str:
    """'FL' → 'Florida' (an unknown code is shown as it is)."""
    return STATE_NAMES.get(code, code)


def _from_zip(raw: str | None) -> LeadLocale | None:
    match = _ZIP.match("".join((raw or "").split()))
    if match is None:
        return None
    found = _zip_record(match.group(1))
    if found is None:
        return None
    state, zone_name = found
    zone = _zone(zone_name) or _zone(STATE_ZONES.get(state, ""))
    # A ZIP without a usable zone (military APO/FPO addresses, a rare bad record) tells us nothing here.
    return LeadLocale(state, zone, "zip") if zone is not None else None


def _zip_record(zip5: str) -> tuple[str, str] | None:
    """(state, IANA zone name) of a five-digit ZIP."""
    return index().zip_record(zip5)


def _from_phone(raw: str | None) -> LeadLocale | None:
    """State and zone from a North American number's area code, when the area code pins them down."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 1 or not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN or not phonenumbers.is_number_type_geographical(kind, 1):
        return None  # toll-free and other non-geographic numbers name no place
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    state = index().area_state(digits, phonenumbers.region_code_for_number(number))
    zones = [zone for zone in index().area_zone_names(digits) if _zone(zone) is not None]
    if state is not None and STATE_ZONES.get(state) in zones:
        zone_name = STATE_ZONES[state]  # an area code spanning two zones: the state's main one
    elif len(zones) == 1:
        zone_name = zones[0]
    elif state is not None:
        zone_name = STATE_ZONES[state]
    else:
        return None
    zone = _zone(zone_name)
    return LeadLocale(state, zone, "area_code") if zone is not None else None


def _state_from_description(description: str) -> str | None:
    """The geocoder says 'Florida', 'Washington State' or 'San Francisco, CA' for US numbers; Canadian
    provinces ('Ottawa, ON', 'Alberta') are not states and give None."""
    if "," in description:
        suffix = description.rsplit(",", 1)[1].strip().upper()
        return suffix if suffix in STATE_ZONES else None
    return state_code(description)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
