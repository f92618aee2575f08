"""Benchmark: the Interactions counters, list, search and lead-queue reads over a large store (issue 17).

    python -m bench.build_store /tmp/st-10k.db --rows 10000      # once per size (see build_store.py)
    python -m bench.counters /tmp/st-10k.db /tmp/st-100k.db /tmp/st-1m.db [postgresql+asyncpg://…]

For each store it prints the median of ``--rounds`` runs (after one warm-up) of the database work each
tool does, as the services do it:

* ``stats 30d`` — ``interaction_stats`` with its default period (30 days ending mid-day: 29 whole days
  from the rollup, two edge days from the rows, High Activity from the last 24 h of messages);
  ``stats all`` the whole two years; ``stats goal`` the same for one goal;
* ``list`` — ``list_interactions`` first page (26 rows) and its ``total_matching``; ``list status`` with a
  status group; ``search`` with a name (page and count); ``search common`` with a source one lead in
  six has (a sixth of the store matches: the page is sorted from all of them);
* ``queue`` — ``get_lead_queue``'s reads: the open candidates, their touches and last replies;
* ``python stats`` (stores up to ``--python-max`` rows) — the old way: every matching row loaded and
  counted in Python, for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import func, select

from bench.build_store import END, target_url
from st_mcp.services.interactions import statuses as s
from st_mcp.services.interactions.stats import compute, open_statuses, summarize
from st_mcp.store.counters import Filter
from st_mcp.store.engine import open_engine
from st_mcp.store.interactions import InteractionRecords, ListFilter
from st_mcp.store.schema import interactions

QUEUE = [x for x in s.ALL_STATUSES if s.group_of(x) in (s.STARTED, s.ACTIVE)]


async def stats(
    records: InteractionRecords, since: Any, until: Any, goal: str | None = None
) -> dict[str, Any]:
    where = Filter(since=since, until=until, goal=goal)
    tally = await records.counters.tally(where)
    high = await records.counters.high_activity(
        where, open_statuses=open_statuses(), threshold=3, window_end=until
    )
    return summarize(tally, high_activity=high, high_activity_inbound=3)


async def python_stats(records: InteractionRecords, since: Any, until: Any) -> dict[str, Any]:
    rows = await records.matching(ListFilter(since=since, until=until))
    inbound = await records.inbound_counts_since(until - timedelta(hours=24), until)
    return compute(rows, inbound, high_activity_inbound=3)


async def listed(records: InteractionRecords, where: ListFilter) -> int:
    rows = await records.page(where, limit=26, after=None)
    await records.count(where)
    return len(rows)


async def queue(records: InteractionRecords) -> int:
    rows = await records.in_statuses(QUEUE, limit=500)
    ids = [row.id for row in rows]
    await records.touches_by_interaction(ids)
    await records.last_inbound_texts(ids)
    return len(rows)


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> float:
    await call()  # warm-up: connections, statement caches
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(target: str, rounds: int, python_max: int) -> None:
    engine = await open_engine(target_url(target))
    records = InteractionRecords(engine)
    try:
        async with engine.connect() as conn:
            rows = int((await conn.execute(select(func.count()).select_from(interactions))).scalar_one())
        month, all_time = END - timedelta(days=30), END - timedelta(days=800)
        cases: dict[str, Callable[[], Awaitable[Any]]] = {
            "stats 30d": lambda: stats(records, month, END),
            "stats all": lambda: stats(records, all_time, END),
            "stats goal": lambda: stats(records, month, END, "Inbound SMS"),
            "list": lambda: listed(records, ListFilter()),
            "list status": lambda: listed(records, ListFilter(statuses=s.statuses_in(s.ESCALATED))),
            "search": lambda: listed(records, ListFilter(search="whitmore 12")),
            "search common": lambda: listed(records, ListFilter(search="google lsa")),
            "queue": lambda: queue(records),
        }
        if rows <= python_max:
            cases["python stats 30d"] = lambda: python_stats(records, month, END)
        print(f"{engine.dialect.name} {rows:>9,} interactions  ({target})")
        for name, call in cases.items():
            print(f"  {name:<18} {await timed(call, rounds):9.1f} ms")
    finally:
        await engine.dispose()


async def main(targets: list[str], rounds: int, python_max: int) -> None:
    for target in targets:
        await measure(target, rounds, python_max)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", help="stores built by bench.build_store (paths or URLs)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--python-max", type=int, default=100_000)
    arguments = parser.parse_args()
    anyio.run(main, arguments.targets, arguments.rounds, arguments.python_max)
