"""The counters, the search and the lead queue's candidates are answered by indexes, not table scans
(issue 17): every SELECT they send is run again under EXPLAIN, on SQLite and PostgreSQL.

On PostgreSQL a near-empty table is cheapest to scan, so sequential scans are switched off for the
EXPLAIN: the question is whether an index *can* serve the query, which is what a million rows need. And as
every index leads with the tenant (migration 0007), an empty table leaves the planner no way to tell them
apart (each is "the tenant's rows, then a filter"): the PostgreSQL store gets some thousands of analyzed
rows first, as a real one has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.services.interactions.stats import open_statuses
from st_mcp.services.interactions.statuses import ALL_STATUSES
from st_mcp.store.counters import Filter
from st_mcp.store.engine import open_engine
from st_mcp.store.interactions import InteractionRecords, ListFilter

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)


@pytest.fixture
async def records(store_url: str) -> AsyncIterator[InteractionRecords]:
    engine = await open_engine(store_url)
    if engine.dialect.name == "postgresql":
        await _analyzed_rows(engine)
    yield InteractionRecords(engine)
    await engine.dispose()


async def _analyzed_rows(engine: AsyncEngine, count: int = 20_000) -> None:
    """``count`` interactions a minute apart across every status, two messages each, and fresh statistics."""
    statuses = "ARRAY[" + ", ".join("'" + s.replace("'", "''") + "'" for s in ALL_STATUSES) + "]"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO interactions (id, goal, channel, type, status, name, phone, received_at, "
                "last_activity_at, inbound_count, outbound_count) "
                f"SELECT 'int_' || g, 'Speed to Lead', 'SMS Agent', 'Lead', "
                f"({statuses})[1 + g % {len(ALL_STATUSES)}], 'Lead ' || g, "
                "'+1720555' || lpad((g % 10000)::text, 4, '0'), "
                "CAST(:now AS timestamptz) - g * interval '1 minute', "
                "CAST(:now AS timestamptz) - g * interval '1 minute', 0, 0 "
                "FROM generate_series(1, :count) AS g"
            ),
            {"now": NOW, "count": count},
        )
        await conn.execute(
            text(
                "INSERT INTO messages (id, interaction_id, direction, channel, sender, text, created_at) "
                "SELECT 'msg_' || g, 'int_' || (1 + g % :count), "
                "CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'sms', 'lead', 'hi', "
                "CAST(:now AS timestamptz) - g * interval '1 minute' FROM generate_series(1, 2 * :count) AS g"
            ),
            {"now": NOW, "count": count},
        )
    # VACUUM too: it moves the rows out of the GIN index's pending list (autovacuum's work in a real store).
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE interactions, messages"))


async def plans(engine: AsyncEngine, call: Callable[[], Awaitable[Any]]) -> list[str]:
    """The plan of every SELECT ``call`` sends, one string per statement."""
    sent: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await call()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    found = []
    async with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if not sqlite:
            await conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in sent:
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = (await conn.exec_driver_sql(prefix + statement, parameters)).all()
            found.append("\n".join(str(row[-1]) for row in rows))
    assert found, "nothing was sent"
    return found


def full_scans(plan: str) -> list[str]:
    lines = [line.strip() for line in plan.splitlines()]
    return [
        line
        for line in lines
        if line.startswith(
            ("SCAN interactions", "SCAN messages", "Seq Scan on interactions", "Seq Scan on messages")
        )
        and "VIRTUAL TABLE" not in line  # the FTS5 index itself
    ]


async def test_stats_read_the_rollup_and_the_edge_days_by_index(records: InteractionRecords) -> None:
    where = Filter(since=NOW - timedelta(days=90), until=NOW, goal="Speed to Lead")  # months, days, edges

    async def stats() -> None:
        await records.counters.tally(where)
        await records.counters.high_activity(
            where, open_statuses=open_statuses(), threshold=3, window_end=NOW
        )

    found = await plans(records.engine, stats)
    assert [full_scans(plan) for plan in found] == [[] for _ in found]
    text = "\n".join(found)
    for index in ("ix_interactions_received", "ix_messages_direction"):
        assert index in text
    assert "interaction_counts" in text and "speed_to_lead_counts" in text


async def test_search_uses_the_search_index(records: InteractionRecords) -> None:
    async def search() -> None:
        await records.page(ListFilter(search="whitmore"), limit=26, after=None)
        await records.count(ListFilter(search="(720) 555-0193"))

    found = await plans(records.engine, search)
    assert [full_scans(plan) for plan in found] == [[] for _ in found]
    index = (
        "interactions_search VIRTUAL TABLE"
        if records.engine.dialect.name == "sqlite"
        else "ix_interactions_search"
    )
    assert all(index in plan for plan in found), found


async def test_the_queue_reads_each_status_from_its_index(records: InteractionRecords) -> None:
    found = await plans(records.engine, lambda: records.in_statuses(["Started", "Active: Hot"], limit=500))
    assert [full_scans(plan) for plan in found] == [[] for _ in found]
    assert all(plan.count("ix_interactions_status") == 2 for plan in found), found
