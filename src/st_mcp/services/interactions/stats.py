"""The Interactions counters, defined once, exactly as DESIGN §5 and the tool output say."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping

from st_mcp.services.interactions import statuses as s
from st_mcp.store.interactions import InteractionRow

DEFINITIONS = {
    "conversations": "interactions whose lead or first contact arrived in the period",
    "escalated": "of those, interactions whose status is currently Escalated (any reason)",
    "high_activity": "of those, open interactions (Started, Active, Escalated, Takeover) with at least "
    "{inbound} inbound messages in the 24 hours before the period's end",
    "response_rate": "contacted interactions (at least one outbound message) with at least one inbound reply "
    "÷ contacted interactions; null when none were contacted",
    "conversion_rate": "interactions with a booked job ÷ conversations; null when there are none",
    "median_speed_to_lead_seconds": "median of (first outbound message − lead received) over contacted "
    "interactions; null when none were contacted",
}


def compute(
    rows: Iterable[InteractionRow], inbound_last_24h: Mapping[str, int], *, high_activity_inbound: int
) -> dict[str, object]:
    rows = list(rows)
    contacted = [r for r in rows if r.first_outbound_at is not None]
    responded = [r for r in contacted if r.inbound_count > 0]
    converted = [r for r in rows if r.job_id is not None]
    delays = [(r.first_outbound_at - r.received_at).total_seconds() for r in contacted if r.first_outbound_at]
    return {
        "conversations": len(rows),
        "escalated": sum(1 for r in rows if s.group_of(r.status) == s.ESCALATED),
        "high_activity": sum(
            1
            for r in rows
            if s.group_of(r.status) in s.OPEN_GROUPS
            and inbound_last_24h.get(r.id, 0) >= high_activity_inbound
        ),
        "response_rate": round(len(responded) / len(contacted), 4) if contacted else None,
        "conversion_rate": round(len(converted) / len(rows), 4) if rows else None,
        "median_speed_to_lead_seconds": statistics.median(delays) if delays else None,
        "counts_by_status": dict(sorted(Counter(r.status for r in rows).items())),
        "definitions": {key: text.format(inbound=high_activity_inbound) for key, text in DEFINITIONS.items()},
    }
