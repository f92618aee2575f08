"""The shipped locale index is what ``zipcodes`` and ``phonenumbers`` say, in a fraction of the memory."""

from __future__ import annotations

import gzip
import json
from importlib.resources import files

import phonenumbers
import pytest
import zipcodes
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

from st_mcp.policy.lead_locale import _state_from_description
from st_mcp.policy.locale_index import INDEX_FILE, build, index


def test_the_shipped_index_is_a_fresh_build() -> None:
    shipped = json.loads(gzip.decompress(files("st_mcp.policy").joinpath(INDEX_FILE).read_bytes()))
    assert shipped == build(_state_from_description), (
        "zipcodes or phonenumbers changed: run python -m st_mcp.policy.locale_index and commit the file"
    )


def test_every_zip_answers_as_zipcodes_does() -> None:
    seen: set[str] = set()
    for record in zipcodes.list_all():
        if record["zip_code"] in seen:
            continue
        seen.add(record["zip_code"])
        assert index().zip_record(record["zip_code"]) == (record["state"] or "", record["timezone"] or "")
    assert len(seen) > 40_000
    assert index().zip_record("00000") is None
    assert index().zip_record("99999") is None


def area_codes() -> list[str]:
    return sorted(
        {
            prefix[1:4]
            for prefix in phone_timezone.TIMEZONE_DATA
            if prefix.startswith("1") and len(prefix) >= 4
        }
    )


@pytest.mark.parametrize("exchange", ["2015550123", "4045550142", "8675309"])
def test_area_codes_answer_as_the_phone_geodata_does(exchange: str) -> None:
    checked = 0
    for npa in area_codes():
        number = phonenumbers.parse(f"+1{npa}{exchange[-7:]}")
        if not phonenumbers.is_valid_number(number):
            continue
        digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
        kind = phonenumbers.number_type(number)
        if not phonenumbers.is_number_type_geographical(kind, 1):
            continue
        region = phonenumbers.region_code_for_number(number)
        assert index().area_state(digits, region) == _state_from_description(
            geocoder.description_for_number(number, "en")
        ), digits
        assert list(index().area_zone_names(digits)) == list(phone_timezone.time_zones_for_number(number)), (
            digits
        )
        checked += 1
    assert checked > 300
