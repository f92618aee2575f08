"""How windows are written for people: 'Tue Mar 14, 2–4 PM' in the business's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def window_label(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    same_half = f"{local_start:%p}" == f"{local_end:%p}"
    first = _hour(local_start) + ("" if same_half else f" {local_start:%p}")
    return f"{local_start:%a %b} {local_start.day}, {first}–{_hour(local_end)} {local_end:%p}"


def _hour(moment: datetime) -> str:
    text = f"{moment:%I}".lstrip("0")
    return text if moment.minute == 0 else f"{text}:{moment:%M}"
