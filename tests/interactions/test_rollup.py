"""The counters read from the daily rollup equal the brute-force computation over the rows (issue 17).

Random interactions are written through the store (create, status changes, first touches, replies,
bookings) and straight by SQL (updates, deletes) on SQLite and PostgreSQL; then for many periods — whole
days, mid-day edges, one partial day, unbounded — and goals, ``interaction_stats``' parts from the rollup
(store/counters.py) are compared with ``compute`` over the matching rows, and the list's count with the
rows' count. The migration's backfill of a store that already holds interactions is checked the same way.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.services.interactions import statuses as s
from st_mcp.services.interactions.stats import compute, open_statuses, summarize
from st_mcp.store import migrate
from st_mcp.store.counters import Filter, Split, split
from st_mcp.store.engine import create_engine, open_engine
from st_mcp.store.interactions import InteractionRecords, ListFilter, StatusChange
from st_mcp.store.schema import interactions, messages, status_history

pytestmark = pytest.mark.anyio

BASE = datetime(2026, 3, 20, tzinfo=UTC)
DAYS = 75  # into June: whole months, whole days and edges all count
GOALS = [("Speed to Lead", "SMS Agent"), ("Inbound SMS", "SMS Agent"), ("Inbound Voice", "Voice Agent")]
THRESHOLD = 3


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_engine(store_url)
    yield engine
    await engine.dispose()


def _moment(rng: random.Random) -> datetime:
    return BASE + timedelta(seconds=rng.uniform(0, DAYS * 86400), microseconds=rng.randrange(1_000_000))


def _delay(rng: random.Random) -> timedelta:
    # Mostly seconds to minutes (the buckets of one second), some up to hours and days; exact second
    # boundaries too, where the SQL and Python bucketings could disagree.
    kind = rng.random()
    if kind < 0.2:
        return timedelta(seconds=rng.randrange(0, 600))
    if kind < 0.7:
        return timedelta(microseconds=rng.randrange(0, 600_000_000))
    if kind < 0.9:
        return timedelta(seconds=rng.uniform(600, 86400))
    return timedelta(seconds=rng.uniform(86400, 4 * 86400))


def _interaction(rng: random.Random, n: int) -> dict[str, Any]:
    goal, channel = rng.choice(GOALS)
    received = _moment(rng)
    contacted = rng.random() < 0.7
    return {
        "id": f"int_{n:05d}",
        "goal": goal,
        "channel": channel,
        "type": rng.choice(["Lead", "Customer"]),
        "status": rng.choice(s.ALL_STATUSES),
        "name": f"Lead {n}",
        "phone": f"+1720555{n:04d}",
        "received_at": received,
        "first_outbound_at": received + _delay(rng) if contacted else None,
        "last_activity_at": received,
        "inbound_count": rng.choice([0, 0, 1, 3]),
        "outbound_count": 1 if contacted else 0,
        "job_id": rng.choice([None, None, None, 1000 + n]),
    }


async def _populate(engine: AsyncEngine, seed: int, count: int = 160) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = InteractionRecords(engine)
    rows = [_interaction(rng, n) for n in range(count)]
    for row in rows:
        await records.create(row, actor="test", reason=None)
    for row in rng.sample(rows, count // 3):  # the store's own guarded updates
        change: dict[str, Any] = {}
        if row["first_outbound_at"] is None and rng.random() < 0.6:
            change["first_outbound_at"] = row["received_at"] + _delay(rng)  # the first touch
        if rng.random() < 0.5:
            change["inbound_count"] = row["inbound_count"] + 1  # a reply
        if rng.random() < 0.3:
            change["job_id"] = 5000 + int(row["id"][4:])  # a booking
        target = rng.choice(s.ALL_STATUSES)
        await records.update(
            row["id"],
            change,
            expected_status=row["status"],
            change=StatusChange(target, None, "test"),
            at=row["received_at"],
        )
    async with engine.begin() as conn:  # other writers: plain SQL moves the counts as well
        for row in rng.sample(rows, count // 10):
            await conn.execute(
                update(interactions)
                .where(interactions.c.id == row["id"])
                .values(goal="Inbound SMS", received_at=_moment(rng), first_outbound_at=None, job_id=None)
            )
        for row in rng.sample(rows, count // 20):
            await conn.execute(delete(status_history).where(status_history.c.interaction_id == row["id"]))
            await conn.execute(delete(interactions).where(interactions.c.id == row["id"]))
        left = [r["id"] for r in (await conn.execute(select(interactions.c.id))).mappings()]
        for n in range(count * 2):  # inbound replies for High Activity, at random times
            await conn.execute(
                insert(messages).values(
                    id=f"msg_{n}",
                    interaction_id=rng.choice(left),
                    direction=rng.choice(["inbound", "inbound", "outbound"]),
                    channel="sms",
                    sender="lead",
                    text="hi",
                    created_at=_moment(rng),
                )
            )
    return rows


def _periods(rng: random.Random) -> list[tuple[datetime, datetime]]:
    day = timedelta(days=1)
    periods = [
        (BASE, BASE + DAYS * day),  # whole days and months
        (BASE - 3 * day, BASE + 100 * day),  # wider than the data
        (BASE + 2 * day, BASE + 3 * day),  # exactly one day
        (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)),  # exactly one month
        (BASE + 2 * day + timedelta(hours=5), BASE + 2 * day + timedelta(hours=9)),  # inside one day
        (BASE + day + timedelta(hours=13), BASE + 3 * day),  # a partial first day
        (BASE + day, BASE + 5 * day + timedelta(minutes=1)),  # a partial last day
        (datetime(2026, 3, 25, 13, tzinfo=UTC), datetime(2026, 6, 2, 10, tzinfo=UTC)),  # all three
    ]
    for _ in range(8):
        a, b = sorted([_moment(rng), _moment(rng)])
        periods.append((a, b))
    return periods


async def _brute_force(
    records: InteractionRecords, since: datetime, until: datetime, goal: str | None
) -> Any:
    rows = await records.matching(ListFilter(goal=goal, since=since, until=until))
    inbound = await records.inbound_counts_since(until - timedelta(hours=24), until)
    return rows, compute(rows, inbound, high_activity_inbound=THRESHOLD)


async def _from_rollup(
    records: InteractionRecords, since: datetime, until: datetime, goal: str | None
) -> Any:
    where = Filter(since=since, until=until, goal=goal)
    tally = await records.counters.tally(where)
    high = await records.counters.high_activity(
        where, open_statuses=open_statuses(), threshold=THRESHOLD, window_end=until
    )
    return summarize(tally, high_activity=high, high_activity_inbound=THRESHOLD)


def _bucket_width(seconds: float) -> float:
    return next(
        (width for below, width in ((120, 1), (600, 10), (3600, 60), (86400, 900)) if seconds < below), 3600
    )


async def _assert_equal_everywhere(engine: AsyncEngine, seed: int) -> int:
    records = InteractionRecords(engine)
    rng = random.Random(seed + 1)
    compared = 0
    for since, until in _periods(rng):
        for goal in [None, *(g for g, _ in GOALS)]:
            rows, expected = await _brute_force(records, since, until, goal)
            got = await _from_rollup(records, since, until, goal)
            assert got == expected, (since, until, goal)
            # The median read from the histogram is the true median to within its bucket.
            delays = sorted(
                (r.first_outbound_at - r.received_at).total_seconds() for r in rows if r.first_outbound_at
            )
            if delays:
                exact = statistics.median(delays)
                upper = delays[len(delays) // 2]
                assert 0 <= exact - got["median_speed_to_lead_seconds"] < _bucket_width(upper)
            compared += got["conversations"]
        statuses = list(rng.sample(s.ALL_STATUSES, 5))
        where = ListFilter(statuses=statuses, channel="SMS Agent", type="Lead", since=since, until=until)
        assert await records.count(where) == len(await records.matching(where))
    return compared


@pytest.mark.parametrize("seed", [1, 2])
async def test_stats_from_the_rollup_equal_the_brute_force_computation(
    engine: AsyncEngine, seed: int
) -> None:
    await _populate(engine, seed)
    compared = await _assert_equal_everywhere(engine, seed)
    assert compared > 1000  # the periods held rows: the equality was not between empty results
    records = InteractionRecords(engine)
    assert await records.count(ListFilter()) == len(await records.matching(ListFilter()))


async def test_the_migration_backfills_the_rollup_and_the_search_index(store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        async with engine.connect() as conn:  # a store at the revision before the rollup, with rows
            await conn.run_sync(lambda c: command.upgrade(migrate._config(c), "0003"))
            await conn.commit()
        rng = random.Random(7)
        async with engine.begin() as conn:
            for n in range(150):
                await conn.execute(insert(interactions).values(**_interaction(rng, n)))
            for n in range(200):
                await conn.execute(
                    insert(messages).values(
                        id=f"msg_{n}",
                        interaction_id=f"int_{rng.randrange(150):05d}",
                        direction="inbound",
                        channel="sms",
                        sender="lead",
                        text="hi",
                        created_at=_moment(rng),
                    )
                )
        assert (await migrate.upgrade(engine)).after == migrate.head_revision()
        await _assert_equal_everywhere(engine, 7)
        records = InteractionRecords(engine)
        found = await records.page(ListFilter(search="lead 12"), limit=50, after=None)
        assert {row.id for row in found} == {"int_00012", *(f"int_{n:05d}" for n in range(120, 130))}
    finally:
        await engine.dispose()


def test_a_period_splits_into_months_days_and_exact_edges() -> None:
    at = datetime(2026, 3, 25, 13, tzinfo=UTC)
    got = split(at, datetime(2026, 6, 2, 10, tzinfo=UTC))
    assert got.months == (date(2026, 4, 1), date(2026, 6, 1))
    assert got.days == ((date(2026, 3, 26), date(2026, 4, 1)), (date(2026, 6, 1), date(2026, 6, 2)))
    assert got.edges == (
        (at, datetime(2026, 3, 26, tzinfo=UTC)),
        (datetime(2026, 6, 2, tzinfo=UTC), datetime(2026, 6, 2, 10, tzinfo=UTC)),
    )
    # Whole days inside one month: no month; midnight to midnight: no edges.
    inside = split(datetime(2026, 5, 3, tzinfo=UTC), datetime(2026, 5, 9, tzinfo=UTC))
    assert (inside.months, inside.days, inside.edges) == (None, ((date(2026, 5, 3), date(2026, 5, 9)),), ())
    # A whole month exactly, and a month to now (unbounded end: every later month).
    assert split(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)).months == (
        date(2026, 4, 1),
        date(2026, 5, 1),
    )
    assert split(datetime(2026, 4, 1, tzinfo=UTC), None) == Split(months=(date(2026, 4, 1), None))
    # Within one day: the rows only.
    hours = split(datetime(2026, 5, 3, 1, tzinfo=UTC), datetime(2026, 5, 3, 2, tzinfo=UTC))
    assert (hours.months, hours.days) == (None, ())
    # A time in another zone is the same instant: its UTC day is what counts.
    denver = datetime(2026, 5, 3, 6, tzinfo=UTC).astimezone(ZoneInfo("America/Denver"))
    assert split(denver, None).edges == (
        (datetime(2026, 5, 3, 6, tzinfo=UTC), datetime(2026, 5, 4, tzinfo=UTC)),
    )
