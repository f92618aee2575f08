"""Wire-format helpers shared by every view module."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..entities import Address, CustomField, ExternalData

Json = dict[str, Any]


def money(value: float | None) -> str | None:
    """Accounting writes money as strings with two decimals ("125.00")."""
    return None if value is None else f"{value:.2f}"


def timespan(value: timedelta) -> str:
    """.NET TimeSpan text ("08:00:00"), which is how ServiceTitan serializes ``format: duration``."""
    seconds = int(value.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def external_data(data: ExternalData, application_guid: str | None) -> list[Json]:
    """Only the calling app's entries, and only when it names its GUID."""
    if not application_guid:
        return []
    return [{"key": k, "value": v} for k, v in data.get(application_guid.lower(), [])]


def address(a: Address) -> Json:
    return {
        "street": a.street,
        "unit": a.unit,
        "city": a.city,
        "state": a.state,
        "zip": a.zip,
        "country": a.country,
        "latitude": a.latitude,
        "longitude": a.longitude,
    }


def custom_fields(fields: list[CustomField]) -> list[Json]:
    return [{"typeId": f.type_id, "name": f.name, "value": f.value} for f in fields]


def named_ref(entity_id: int, name: str | None) -> Json:
    return {"id": entity_id, "name": name}
