"""External data: key/value pairs an app stores on customers, locations and jobs, visible only to the
app that names its ``applicationGuid``. The server uses it to find its own jobs again after a crash."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from .entities import ExternalData
from .problems import bad_request
from .query import Query


class _HasExternalData(Protocol):
    external_data: ExternalData


def requested_guid(query: Query) -> str | None:
    guid = query.str("externalDataApplicationGuid")
    return guid.lower() if guid else None


def external_filter(query: Query) -> Callable[[_HasExternalData], bool] | None:
    """Predicate for ``externalDataKey`` + ``externalDataValues`` (≤ 50), scoped to the app's GUID."""
    key = query.str("externalDataKey")
    values = query.str("externalDataValues")
    if key is None and values is None:
        return None
    if key is None or values is None:
        raise bad_request("externalDataKey", "externalDataKey and externalDataValues must be given together.")
    guid = requested_guid(query)
    if guid is None:
        raise bad_request(
            "externalDataApplicationGuid",
            "externalDataApplicationGuid is required to filter by external data.",
        )
    wanted = {v.strip() for v in values.split(",") if v.strip()}
    if len(wanted) > 50:
        raise bad_request("externalDataValues", "The maximum number of values is 50.")
    return lambda record: any(k == key and v in wanted for k, v in record.external_data.get(guid, []))


def store(
    target: ExternalData, guid: str, items: Iterable[tuple[str, str | None]], merge: bool = False
) -> None:
    """Write an app's pairs. Replace swaps the whole list; Merge updates keys and drops null values."""
    guid = guid.lower()
    current = dict(target.get(guid, [])) if merge else {}
    for key, value in items:
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    target[guid] = list(current.items())
