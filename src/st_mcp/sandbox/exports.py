"""Export feeds (``GET …/export/<records>``): every record, oldest change first, in chunks, with a
continuation token.

ServiceTitan's contract, as its documents put it: ``from`` is the ``continueFrom`` of the previous answer
(absent: from the beginning; a date such as ``2020-01-01``: from that moment); ``hasMore`` says another
request would return more now. ``includeRecentChanges=true`` hands out recent changes sooner "but the same
results may appear multiple times on consecutive requests". Here the token names the change (modified
time, id) a reader has seen up to. Without ``includeRecentChanges`` a read returns only changes strictly
after it; with it, the changes of that same instant are repeated too — so a record modified again within
the instant the reader stopped at (a frozen test clock) is never missed, at the price of repeats a reader
must tolerate (which is what the document warns of).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .problems import bad_request
from .query import Query
from .times import iso, parse_datetime

EXPORT_CHUNK = 500  # records per answer (ServiceTitan's own chunk size is not documented)
Json = dict[str, Any]


def export_feed(
    query: Query, rows: Iterable[Any], serialize: Callable[[Any], Json], *, has_active: bool = False
) -> Json:
    after = _decode(query.raw("from"))
    repeat_instant = bool(query.bool("includeRecentChanges"))
    items = list(rows)
    if has_active:
        # "only active items will be returned by default", as the documents say of ``active``
        active = query.enum("active", ("True", "Any", "False")) or "True"
        if active != "Any":
            items = [r for r in items if r.active == (active == "True")]
    items.sort(key=lambda r: (r.modified_on, r.id))
    if after is not None:
        moment, last_id = after
        if repeat_instant:
            items = [r for r in items if r.modified_on >= moment]
        else:
            items = [r for r in items if (r.modified_on, r.id) > (moment, last_id)]
    chunk = items[:EXPORT_CHUNK]
    # Nothing new: the same token, so the reader asks again from the same place.
    token = _encode(chunk[-1].modified_on, chunk[-1].id) if chunk else query.raw("from") or ""
    return {"hasMore": len(items) > len(chunk), "continueFrom": token, "data": [serialize(r) for r in chunk]}


def _encode(moment: datetime, record_id: int) -> str:
    return base64.urlsafe_b64encode(f"{iso(moment)}|{record_id}".encode()).decode().rstrip("=")


def _decode(token: str | None) -> tuple[datetime, int] | None:
    if token is None or not token.strip():
        return None
    text = token.strip()
    try:  # a custom date string ("2020-01-01") starts the export at that moment
        return parse_datetime(text), -1
    except ValueError:
        pass
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, record_id = raw.split("|")
        return parse_datetime(moment), int(record_id)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("from", "The continuation token is not valid.") from None
