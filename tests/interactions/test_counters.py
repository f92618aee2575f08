"""The Interactions counters on a constructed data set, against values computed by hand (DESIGN §5).

Rows are written straight into the store with chosen receive times, first touches, reply counts,
statuses and job ids, and inbound messages at chosen times; then ``interaction_stats`` is called
through the MCP client. The sandbox clock stands still at U = Tuesday 2026-05-05 16:30 UTC.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mcp import Client

from st_mcp.services.interactions.stats import compute
from st_mcp.store.interactions import InteractionRow

from .conftest import FIXED_NOW, Harness, insert_interaction, insert_messages, ok, refused

pytestmark = pytest.mark.anyio

U = FIXED_NOW
SINCE = U - timedelta(days=7)
H, M, S, D = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1), timedelta(days=1)


async def build(harness: Harness) -> None:
    """Thirteen interactions; ``#`` comments give what each contributes to the counters."""

    async def add(key: str, *, received: Any, first_touch: int | None = None, **values: Any) -> None:
        await insert_interaction(
            harness,
            id=key,
            received_at=received,
            first_outbound_at=received + timedelta(seconds=first_touch) if first_touch is not None else None,
            outbound_count=1 if first_touch is not None else 0,
            **values,
        )

    # A: open, 4 replies in the last 24 h → High Activity; touched after 30 s; replied.
    await add("A", received=U - 2 * H, first_touch=30, status="Active: Hot", inbound_count=4)
    await insert_messages(harness, "A", [U - H, U - 50 * M, U - 40 * M, U - 30 * M])
    await insert_messages(harness, "A", [U - 55 * M], direction="outbound")
    # B: booked (converted, not open) — 3 replies in 24 h do not make it High Activity. 90 s.
    await add("B", received=U - D, first_touch=90, status="Converted: Agent", inbound_count=3, job_id=1)
    await insert_messages(harness, "B", [U - 23 * H, U - 22 * H, U - 21 * H])
    # C: escalated; one reply falls one second outside the 24 h window → 2 in it; outbound never
    # counts. 60 s.
    await add("C", received=U - 3 * D, first_touch=60, status="Escalated (Human Request)", inbound_count=3)
    await insert_messages(harness, "C", [U - 24 * H - S, U - 2 * H, U - H])
    await insert_messages(harness, "C", [U - 90 * M, U - 80 * M, U - 70 * M], direction="outbound")
    # D: taken over (open); a reply exactly 24 h before `until` counts → 3 → High Activity. 120 s.
    await add(
        "D", received=U - 30 * H, first_touch=120, status="Takeover", inbound_count=3, goal="Inbound SMS"
    )
    await insert_messages(harness, "D", [U - 24 * H, U - 3 * H, U - 2 * H])
    # E: not contacted yet.
    await add("E", received=U - 10 * M, status="Started")
    # F: out of area, never contacted.
    await add("F", received=U - 2 * D, status="Dismissed: Agent")
    # G: contacted after 300 s, never replied.
    await add("G", received=U - 6 * D, first_touch=300, status="Abandoned")
    # H: inbound voice, booked by a person; 45 s; one reply long ago.
    await add(
        "H",
        received=U - 4 * D,
        first_touch=45,
        status="Converted: Human",
        inbound_count=1,
        job_id=2,
        goal="Inbound Voice",
        channel="Voice Agent",
    )
    await insert_messages(harness, "H", [U - 4 * D + M])
    # I: opted out (closed) after 5 replies in 24 h: not High Activity. 20 s.
    await add("I", received=U - 6 * H, first_touch=20, status="Opt-out", inbound_count=5)
    await insert_messages(harness, "I", [U - 5 * H + n * M for n in range(5)])
    # L: received exactly at SINCE (inclusive); failed before any touch.
    await add("L", received=SINCE, status="Failed")
    # N: inbound text answered after 10 s.
    await add(
        "N", received=U - 12 * H, first_touch=10, status="Active: Warm", inbound_count=1, goal="Inbound SMS"
    )
    await insert_messages(harness, "N", [U - 12 * H])
    # Outside [SINCE, U): J received before SINCE (escalated and busy), K received exactly at U.
    await add("J", received=SINCE - S, first_touch=15, status="Escalated (Availability)", inbound_count=3)
    await insert_messages(harness, "J", [U - 3 * H, U - 2 * H, U - H])
    await add("K", received=U, status="Started")


async def stats(client: Client, **arguments: Any) -> dict[str, Any]:
    return await ok(client, "interaction_stats", arguments)


async def test_counters_for_the_week(harness: Harness, agent: Client) -> None:
    await build(harness)
    got = await stats(agent, since=SINCE.isoformat(), until=U.isoformat())

    # In the period: A B C D E F G H I L N (11). J is before SINCE, K is at `until` (exclusive).
    assert got["conversations"] == 11
    assert got["escalated"] == 1  # C (J is outside the period)
    assert got["high_activity"] == 2  # A (4) and D (3, one exactly 24 h old); not B, I (closed), C (2)
    # Contacted: A B C D G H I N = 8; replied: all but G = 7.
    assert got["response_rate"] == pytest.approx(0.875)
    # Booked: B, H of 11.
    assert got["conversion_rate"] == pytest.approx(0.1818)
    # Delays 10 20 30 45 60 90 120 300 (an even count): the mean of the middle two, (45 + 60) / 2.
    assert got["median_speed_to_lead_seconds"] == 52.5
    assert got["counts_by_status"] == {
        "Abandoned": 1,
        "Active: Hot": 1,
        "Active: Warm": 1,
        "Converted: Agent": 1,
        "Converted: Human": 1,
        "Dismissed: Agent": 1,
        "Escalated (Human Request)": 1,
        "Failed": 1,
        "Opt-out": 1,
        "Started": 1,
        "Takeover": 1,
    }
    assert sum(got["counts_by_status"].values()) == got["conversations"]
    assert (got["since"], got["until"], got["goal"]) == (
        SINCE.isoformat().replace("+00:00", "Z"),
        U.isoformat().replace("+00:00", "Z"),
        None,
    )


async def test_goal_filter(harness: Harness, agent: Client) -> None:
    await build(harness)
    speed = await stats(agent, since=SINCE.isoformat(), until=U.isoformat(), goal="Speed to Lead")
    # A B C E F G I L: 8 conversations; contacted A B C G I; replied A B C I; booked B.
    assert speed["conversations"] == 8
    assert (speed["escalated"], speed["high_activity"]) == (1, 1)  # C; A (D is Inbound SMS)
    assert speed["response_rate"] == pytest.approx(0.8)
    assert speed["conversion_rate"] == pytest.approx(0.125)
    assert speed["median_speed_to_lead_seconds"] == 60  # 20 30 60 90 300: an odd count
    assert speed["goal"] == "Speed to Lead"
    assert "Takeover" not in speed["counts_by_status"] and "Converted: Human" not in speed["counts_by_status"]

    voice = await stats(agent, since=SINCE.isoformat(), until=U.isoformat(), goal="Inbound Voice")
    assert voice["conversations"] == 1
    assert (voice["response_rate"], voice["conversion_rate"], voice["median_speed_to_lead_seconds"]) == (
        1.0,
        1.0,
        45,
    )
    assert voice["counts_by_status"] == {"Converted: Human": 1}

    texts = await stats(agent, since=SINCE.isoformat(), until=U.isoformat(), goal="Inbound SMS")
    assert (texts["conversations"], texts["high_activity"], texts["median_speed_to_lead_seconds"]) == (
        2,
        1,
        65,  # D 120 s, N 10 s
    )


async def test_period_filter(harness: Harness, agent: Client) -> None:
    await build(harness)
    day = await stats(agent, since=(U - D).isoformat(), until=U.isoformat())
    # Received in [U − 24 h, U): A, B (exactly at since), E, I, N.
    assert day["conversations"] == 5
    assert day["escalated"] == 0
    assert day["high_activity"] == 1  # A
    assert day["response_rate"] == 1.0  # A B I N all replied
    assert day["conversion_rate"] == pytest.approx(0.2)
    assert day["median_speed_to_lead_seconds"] == 25  # 10 20 30 90 → (20 + 30) / 2

    # The same instant written in Denver time selects the same rows; a time without an offset is UTC.
    local = await stats(agent, since="2026-05-04T10:30:00-06:00", until="2026-05-05T10:30:00-06:00")
    assert local["conversations"] == 5, local["counts_by_status"]
    naive = await stats(agent, since="2026-05-04T16:30:00")  # `until` defaults to now (UTC)
    assert {k: v for k, v in naive.items() if k != "since"} == {k: v for k, v in day.items() if k != "since"}

    # A window that ended yesterday: High Activity counts the 24 h before *its* end.
    earlier = await stats(agent, since=(U - 7 * D).isoformat(), until=(U - 20 * H).isoformat())
    # Received before U − 20 h: B C D F G H L (J before, the rest after).
    assert earlier["conversations"] == 7
    assert earlier["high_activity"] == 0  # C has one reply at U − 24 h − 1 s only, D's are later
    assert earlier["counts_by_status"]["Takeover"] == 1


async def test_default_period_is_the_last_30_days(harness: Harness, agent: Client) -> None:
    await build(harness)
    got = await stats(agent)
    assert got["until"] == U.isoformat().replace("+00:00", "Z")
    assert got["since"] == (U - 30 * D).isoformat().replace("+00:00", "Z")
    assert got["conversations"] == 12  # the 11 of the week and J; K is at `until`
    assert (got["escalated"], got["high_activity"]) == (2, 3)  # + J, busy and escalated
    # Delays now also include J's 15 s: 10 15 20 30 45 60 90 120 300 → 45.
    assert got["median_speed_to_lead_seconds"] == 45
    # The counters move with the clock: a day later A's burst of replies is no longer recent.
    harness.clock.advance(D.total_seconds())
    later = await stats(agent)
    assert later["high_activity"] == 0
    assert later["conversations"] == 13  # K is now inside the period


async def test_definitions_are_in_the_result(harness: Harness, agent: Client) -> None:
    got = await stats(agent)
    definitions = got["definitions"]
    assert set(definitions) == {
        "conversations",
        "escalated",
        "high_activity",
        "response_rate",
        "conversion_rate",
        "median_speed_to_lead_seconds",
    }
    assert "at least 3 inbound messages in the 24 hours" in definitions["high_activity"]
    assert "{inbound}" not in definitions["high_activity"]
    assert "null when none were contacted" in definitions["response_rate"]
    assert "median" in definitions["median_speed_to_lead_seconds"]


async def test_no_data_gives_null_rates(agent: Client) -> None:
    got = await stats(agent)
    assert (got["conversations"], got["escalated"], got["high_activity"]) == (0, 0, 0)
    assert got["response_rate"] is None
    assert got["conversion_rate"] is None
    assert got["median_speed_to_lead_seconds"] is None
    assert got["counts_by_status"] == {}


async def test_nobody_contacted_gives_null_response_rate(harness: Harness, agent: Client) -> None:
    await insert_interaction(harness, id="X", received_at=U - H, status="Started")
    got = await stats(agent)
    assert got["conversations"] == 1
    assert got["conversion_rate"] == 0.0
    assert got["response_rate"] is None and got["median_speed_to_lead_seconds"] is None


async def test_a_period_that_ends_before_it_starts_is_refused(agent: Client) -> None:
    text = await refused(agent, "interaction_stats", {"since": U.isoformat(), "until": (U - H).isoformat()})
    assert "'since' must be before 'until'" in text


def _row(key: str, status: str, **values: Any) -> InteractionRow:
    base: dict[str, Any] = {name: None for name in InteractionRow.__slots__}  # type: ignore[attr-defined]
    base.update(
        id=key,
        goal="Speed to Lead",
        channel="SMS Agent",
        type="Lead",
        status=status,
        received_at=U,
        last_activity_at=U,
        inbound_count=0,
        outbound_count=0,
    )
    base.update(values)
    return InteractionRow(**base)


def test_high_activity_threshold_is_configurable() -> None:
    rows = [_row("a", "Active: Hot"), _row("b", "Escalated"), _row("c", "Dismissed: Human")]
    inbound = {"a": 4, "b": 3, "c": 9}
    assert compute(rows, inbound, high_activity_inbound=3)["high_activity"] == 2
    assert compute(rows, inbound, high_activity_inbound=4)["high_activity"] == 1
    result = compute(rows, inbound, high_activity_inbound=4)
    assert "at least 4 inbound" in result["definitions"]["high_activity"]  # type: ignore[index]
