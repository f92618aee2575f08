"""The lead-locale tables as a compact index, shipped with the package and read on first use.

The gate needs a ZIP's state and zone, and a North American area code's state and zones. The libraries
that know them load the whole country's ZIP list (``zipcodes``, ~0.8 s and 56 MB) and the whole world's
phone geodata (``phonenumbers.geocoder``, ~100 MB) into memory; a server paid that at every start. The
index keeps only what ``lead_locale`` reads — 42 k ZIPs packed seven characters each, searched in
place, and the +1 prefixes of the phone geodata reduced to state codes — and ``build()`` regenerates it
from those libraries (``python -m st_mcp.policy.locale_index``); a test checks the shipped file against a
fresh build, so an upgrade of either library cannot leave it stale unnoticed.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

INDEX_FILE = "locale_index.json.gz"
_RECORD = 7  # five ZIP digits, a state index, a zone index
_OFFSET = 48  # indexes are stored as characters from "0" on


@dataclass(frozen=True, slots=True)
class LocaleIndex:
    states: tuple[str, ...]
    zones: tuple[str, ...]
    zip_records: str  # sorted fixed-width records
    area_states: dict[str, str]  # +1 digit prefix → state code ("" where the geodata names no state)
    area_zones: dict[str, tuple[str, ...]]  # +1 digit prefix → IANA zones
    region_states: dict[str, str]  # NANP region (PR, VI, …) → state code, when no prefix names a place

    def zip_record(self, zip5: str) -> tuple[str, str] | None:
        """(state, zone) of a five-digit ZIP, or None when it is not a ZIP code."""
        count = len(self.zip_records) // _RECORD
        keys = _Keys(self.zip_records, count)
        at = bisect.bisect_left(keys, zip5)
        if at == count or keys[at] != zip5:
            return None
        record = self.zip_records[at * _RECORD : (at + 1) * _RECORD]
        return self.states[ord(record[5]) - _OFFSET], self.zones[ord(record[6]) - _OFFSET]

    def area_state(self, digits: str, region: str | None) -> str | None:
        """The state the phone geodata names for these digits (country code included): the longest
        prefix's place, else the number's region's (the geocoder's fallback to the country name)."""
        found = _longest(self.area_states, digits)
        if found is None:
            found = self.region_states.get(region or "", "")
        return found or None

    def area_zone_names(self, digits: str) -> tuple[str, ...]:
        return _longest(self.area_zones, digits) or ()


class _Keys:
    """The ZIPs of the packed records, as a sequence ``bisect`` can search without unpacking them."""

    def __init__(self, records: str, count: int) -> None:
        self._records = records
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        return self._records[index * _RECORD : index * _RECORD + 5]


def _longest(table: dict[str, Any], digits: str) -> Any:
    for length in range(min(len(digits), 10), 0, -1):
        if (found := table.get(digits[:length])) is not None:
            return found
    return None


@functools.cache
def index() -> LocaleIndex:
    raw = json.loads(gzip.decompress(files("st_mcp.policy").joinpath(INDEX_FILE).read_bytes()))
    return _from_json(raw)


def _from_json(raw: dict[str, Any]) -> LocaleIndex:
    return LocaleIndex(
        states=tuple(raw["states"]),
        zones=tuple(raw["zones"]),
        zip_records=raw["zip_records"],
        area_states=dict(raw["area_states"]),
        area_zones={prefix: tuple(zones) for prefix, zones in raw["area_zones"].items()},
        region_states=dict(raw["region_states"]),
    )


# -- building it from the libraries (development only) ----------------------------------------------------
def build(state_from_description: Callable[[str], str | None]) -> dict[str, Any]:
    """The index as JSON-ready data, from ``zipcodes`` and ``phonenumbers``' geodata (both loaded here)."""
    import zipcodes
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, geocoder
    from phonenumbers import timezone as phone_timezone

    first: dict[str, tuple[str, str]] = {}
    for record in zipcodes.list_all():
        first.setdefault(
            record["zip_code"], (str(record.get("state") or ""), str(record.get("timezone") or ""))
        )
    states = sorted({state for state, _ in first.values()})
    zones = sorted({zone for _, zone in first.values()})
    if max(len(states), len(zones)) + _OFFSET > 126:
        raise ValueError("too many states or zones for one printable character each")
    packed = "".join(
        f"{zip5}{chr(_OFFSET + states.index(state))}{chr(_OFFSET + zones.index(zone))}"
        for zip5, (state, zone) in sorted(first.items())
    )
    # A prefix without an English name is skipped by the geocoder (it tries a shorter one): so here.
    described = {
        prefix: state_from_description(names["en"]) or ""
        for prefix, names in geocoder.GEOCODE_DATA.items()
        if prefix.startswith("1") and "en" in names
    }
    regions = {
        region: state_from_description(geocoder._region_display_name(region, "en", None, None)) or ""
        for region in COUNTRY_CODE_TO_REGION_CODE[1]
    }
    return {
        "states": states,
        "zones": zones,
        "zip_records": packed,
        "area_states": _without_redundant(described),
        "region_states": regions,
        "area_zones": {
            prefix: list(found)
            for prefix, found in phone_timezone.TIMEZONE_DATA.items()
            if prefix.startswith("1")
        },
    }


def _without_redundant(table: dict[str, str]) -> dict[str, str]:
    """Drop each prefix whose answer a shorter kept prefix gives already (lookups are unchanged)."""
    kept: dict[str, str] = {}
    for prefix in sorted(table, key=len):
        if _longest(kept, prefix) != table[prefix]:
            kept[prefix] = table[prefix]
    return kept


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_bytes(gzip.compress(json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), mtime=0))


if __name__ == "__main__":
    from st_mcp.policy.lead_locale import _state_from_description

    target = Path(__file__).with_name(INDEX_FILE)
    write(target, build(_state_from_description))
    print(f"wrote {target} ({target.stat().st_size // 1024} KB)")
