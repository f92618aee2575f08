"""The Interactions counters, defined once, exactly as DESIGN §5 and the tool output say."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from st_mcp.services.interactions import statuses as s
from st_mcp.store.counters import FOLLOW_UP_GOALS, Tally, bucket_of, median_of
from st_mcp.store.interactions import InteractionRow

DEFINITIONS = {
    "conversations": "interactions whose lead or first contact arrived in the period",
    "escalated": "of those, interactions whose status is currently Escalated (any reason)",
    "high_activity": "of those, open interactions (Started, Active, Escalated, Takeover) with at least "
    "{inbound} inbound messages in the 24 hours before the period's end",
    "response_rate": "contacted interactions (at least one outbound message) with at least one inbound reply "
    "÷ contacted interactions; null when none were contacted",
    "conversion_rate": "interactions with a booked job ÷ conversations (a post-job follow-up links the job "
    "it follows up, which it did not book); null when there are none",
    "median_speed_to_lead_seconds": "median of (first outbound message − lead received) over contacted "
    "interactions, post-job follow-ups aside, in whole seconds below 10 minutes (then 10 s below an hour, "
    "minutes below a day, hours beyond); null when none were contacted",
}


def compute(
    rows: Iterable[InteractionRow], inbound_last_24h: Mapping[str, int], *, high_activity_inbound: int
) -> dict[str, object]:
    """The counters over rows in hand (the brute-force reference the rollup is tested against)."""
    rows = list(rows)
    tally = Tally()
    for r in rows:
        tally.by_status[r.status] += 1
        if r.first_outbound_at is not None:
            tally.contacted += 1
            tally.responded += r.inbound_count > 0
            if r.goal not in FOLLOW_UP_GOALS:
                tally.histogram[bucket_of(r.first_outbound_at - r.received_at)] += 1
        tally.converted += r.job_id is not None and r.goal not in FOLLOW_UP_GOALS
    high = sum(
        1
        for r in rows
        if s.group_of(r.status) in s.OPEN_GROUPS and inbound_last_24h.get(r.id, 0) >= high_activity_inbound
    )
    return summarize(tally, high_activity=high, high_activity_inbound=high_activity_inbound)


def summarize(tally: Tally, *, high_activity: int, high_activity_inbound: int) -> dict[str, object]:
    """The counters from their parts (the database's rollup, or ``compute``'s rows)."""
    conversations = tally.conversations
    return {
        "conversations": conversations,
        "escalated": sum(n for status, n in tally.by_status.items() if s.group_of(status) == s.ESCALATED),
        "high_activity": high_activity,
        "response_rate": round(tally.responded / tally.contacted, 4) if tally.contacted else None,
        "conversion_rate": round(tally.converted / conversations, 4) if conversations else None,
        "median_speed_to_lead_seconds": median_of(tally.histogram),
        "counts_by_status": dict(sorted((k, v) for k, v in tally.by_status.items() if v)),
        "definitions": {key: text.format(inbound=high_activity_inbound) for key, text in DEFINITIONS.items()},
    }


def open_statuses() -> list[str]:
    return [status for status in s.ALL_STATUSES if s.group_of(status) in s.OPEN_GROUPS]
