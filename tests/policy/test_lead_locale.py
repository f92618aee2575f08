"""Where is the lead? ZIP first, then the given state, then the phone's area code, then the business."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from st_mcp.policy.lead_locale import (
    STATE_NAMES,
    STATE_ZONES,
    LeadLocale,
    locale_for,
    locales_for,
    require_state_code,
    state_code,
)

BUSINESS = "America/Denver"
US_REGIONS = {"US", "PR", "GU", "VI", "AS", "MP"}  # phonenumbers regions of the US and its territories


def where(*, zip: str | None = None, state: str | None = None, phone: str | None = None) -> LeadLocale:
    return locale_for(zip=zip, state=state, phone=phone, business_timezone=BUSINESS)


@pytest.mark.parametrize(
    ("zip_code", "state", "zone"),
    [
        ("33602", "FL", "America/New_York"),
        ("80202", "CO", "America/Denver"),
        ("90012", "CA", "America/Los_Angeles"),
        ("96813", "HI", "Pacific/Honolulu"),
        ("10001", "NY", "America/New_York"),
        ("85004", "AZ", "America/Phoenix"),
        ("79901", "TX", "America/Denver"),  # El Paso keeps Mountain time although Texas is mostly Central
    ],
)
def test_the_service_zip_gives_state_and_zone(zip_code: str, state: str, zone: str) -> None:
    assert where(zip=zip_code) == LeadLocale(state, ZoneInfo(zone), "zip")


@pytest.mark.parametrize("zip_code", ["33602-1234", "336021234", " 33602 ", "33602 - 1234", "\t33602-1234\n"])
def test_zip_plus_four_and_whitespace_are_tolerated(zip_code: str) -> None:
    assert where(zip=zip_code) == LeadLocale("FL", ZoneInfo("America/New_York"), "zip")


def test_the_zip_wins_over_a_state_that_disagrees() -> None:
    assert where(zip="33602", state="CO", phone="+13035550100") == LeadLocale(
        "FL", ZoneInfo("America/New_York"), "zip"
    )


@pytest.mark.parametrize("zip_code", ["00000", "99999", "ABCDE", "3360", "336022", "", None])
def test_an_unknown_or_malformed_zip_falls_back_to_the_state(zip_code: str | None) -> None:
    assert where(zip=zip_code, state="TX") == LeadLocale("TX", ZoneInfo("America/Chicago"), "state")


def test_an_unknown_zip_without_a_state_falls_back_to_the_area_code() -> None:
    assert where(zip="00000", phone="+18135550100") == LeadLocale(
        "FL", ZoneInfo("America/New_York"), "area_code"
    )


def test_a_military_zip_has_no_zone_and_falls_through() -> None:
    assert where(zip="09001", phone="+14155550100").source == "area_code"


@pytest.mark.parametrize(
    ("state", "code", "zone"),
    [
        ("FL", "FL", "America/New_York"),  # the Panhandle's Central time is the minority
        ("fl", "FL", "America/New_York"),
        (" Texas ", "TX", "America/Chicago"),
        ("Tennessee", "TN", "America/Chicago"),
        ("HI", "HI", "Pacific/Honolulu"),
        ("District of Columbia", "DC", "America/New_York"),
    ],
)
def test_the_state_fallback_uses_the_states_main_zone(state: str, code: str, zone: str) -> None:
    assert where(state=state, phone="+12125550100") == LeadLocale(code, ZoneInfo(zone), "state")


@pytest.mark.parametrize(
    ("phone", "state", "zone"),
    [
        ("+18135550100", "FL", "America/New_York"),  # the geocoder says "Florida"
        ("8135550100", "FL", "America/New_York"),  # 10-digit US
        ("(813) 555-0100", "FL", "America/New_York"),
        ("1-405-555-0100", "OK", "America/Chicago"),
        ("+14155550100", "CA", "America/Los_Angeles"),  # "San Francisco, CA"
        ("+12125550100", "NY", "America/New_York"),  # "New York, NY"
        ("+12065550100", "WA", "America/Los_Angeles"),  # "Washington State"
        ("+12025550100", "DC", "America/New_York"),  # "Washington D.C."
        ("+18085550100", "HI", "Pacific/Honolulu"),
        ("+19155550100", "TX", "America/Denver"),  # El Paso's area code: Mountain
        ("+19075550100", "AK", "America/Anchorage"),  # two zones; the state's main one
        ("+17755550100", "NV", "America/Los_Angeles"),  # two zones; the state's main one
    ],
)
def test_the_area_code_fallback(phone: str, state: str, zone: str) -> None:
    assert where(phone=phone) == LeadLocale(state, ZoneInfo(zone), "area_code")


def test_a_canadian_number_gives_a_zone_but_no_state() -> None:
    assert where(phone="+16045550100") == LeadLocale(None, ZoneInfo("America/Vancouver"), "area_code")


@pytest.mark.parametrize("phone", ["+18005550100", "+18885550100", "not a phone", "+442079460000", "", None])
def test_toll_free_foreign_or_garbage_numbers_fall_back_to_the_business(phone: str | None) -> None:
    assert where(phone=phone) == LeadLocale(None, ZoneInfo(BUSINESS), "business")


def test_nothing_known_falls_back_to_the_business_zone_without_a_state() -> None:
    assert locale_for(zip=None, state=None, phone=None, business_timezone="America/Chicago") == LeadLocale(
        None, ZoneInfo("America/Chicago"), "business"
    )


def test_a_bad_business_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an IANA zone name"):
        locale_for(zip=None, state=None, phone=None, business_timezone="Mountain Time")


def test_every_state_has_a_name_and_a_real_zone() -> None:
    assert set(STATE_NAMES) == set(STATE_ZONES)
    for zone in STATE_ZONES.values():
        ZoneInfo(zone)


def test_state_codes_from_names_and_codes() -> None:
    assert state_code("md") == "MD"
    assert state_code("New  York") == "NY"
    assert state_code("Washington State") == "WA"
    assert state_code("Ontario") is None
    assert state_code(None) is None
    assert require_state_code("oklahoma") == "OK"
    with pytest.raises(ValueError, match="use a two-letter code such as FL"):
        require_state_code("Flordia")


def test_every_us_area_code_resolves_to_the_state_its_zips_are_in() -> None:
    """Robustness of the geocoder mapping: each US area code the ZIP data knows lands in its main state.

    (Border ZIPs also list Canadian area codes; those numbers are Canadian and rightly get no state.)
    """
    import collections

    import phonenumbers
    import zipcodes

    states_by_code: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for record in zipcodes.list_all():
        for area_code in record["area_codes"]:
            states_by_code[area_code][record["state"]] += 1
    checked, wrong = 0, []
    for area_code, states in sorted(states_by_code.items()):
        phone = f"+1{area_code}2345678"
        if phonenumbers.region_code_for_number(phonenumbers.parse(phone)) not in US_REGIONS:
            continue
        found = where(phone=phone)
        if found.source == "business":
            continue  # an exchange the metadata calls invalid (some territories)
        checked += 1
        if found.state != states.most_common(1)[0][0]:
            wrong.append((area_code, found.state, states.most_common(2)))
    assert checked > 300
    assert wrong == []


# ----- the area code as a second place ------------------------------------------------------------------


def places(*, zip: str | None = None, state: str | None = None, phone: str | None = None) -> list:
    found = locales_for(zip=zip, state=state, phone=phone, business_timezone=BUSINESS)
    return [(locale.state, locale.timezone.key, locale.source) for locale in found]


def test_a_phone_from_another_state_adds_that_state_after_the_address() -> None:
    assert places(zip="80202", phone="8135550142") == [
        ("CO", "America/Denver", "zip"),
        ("FL", "America/New_York", "area_code"),
    ]
    assert places(state="FL", phone="(303) 555-0142") == [
        ("FL", "America/New_York", "state"),
        ("CO", "America/Denver", "area_code"),
    ]


def test_a_state_typed_next_to_a_zip_of_another_state_binds_too() -> None:
    """ZIP, state and area code disagreeing: every place they name holds (the strictest rule wins) — a
    Denver ZIP with "HI" typed and a Tampa phone answers to Colorado, Hawaii and Florida at once."""
    assert places(zip="80202", state="HI", phone="8135550142") == [
        ("CO", "America/Denver", "zip"),
        ("HI", "Pacific/Honolulu", "state"),
        ("FL", "America/New_York", "area_code"),
    ]
    assert places(zip="80202", state="Colorado", phone="3035550142") == [("CO", "America/Denver", "zip")]


@pytest.mark.parametrize(
    ("zip_code", "state", "phone"),
    [
        ("80202", None, "3035550142"),  # the phone agrees with the address
        ("80202", None, "8005550142"),  # toll-free: no place
        ("80202", None, "+44 20 7946 0958"),  # not North American
        ("80202", None, None),
        (None, None, "8135550142"),  # the area code is already the only evidence
        (None, None, None),
    ],
)
def test_one_place_when_the_phone_adds_nothing(
    zip_code: str | None, state: str | None, phone: str | None
) -> None:
    assert len(places(zip=zip_code, state=state, phone=phone)) == 1
