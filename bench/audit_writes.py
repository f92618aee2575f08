"""Benchmark: audit records under concurrency — group commit against one transaction per record (issue 17).

    python -m bench.audit_writes --tasks 200 --each 5 [--url postgresql+asyncpg://…/db]

``--tasks`` concurrent callers each append ``--each`` records through one ``AuditLog`` (as 200 sessions'
tool calls do in one server process), on a fresh SQLite file (or the given, empty, PostgreSQL database).
Printed per mode: records kept of records appended, transactions used, records per second, the median and
p99 wait of one append. ``one per transaction`` caps batches at one record: the old behaviour's commits.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
from sqlalchemy import event

from st_mcp.policy.audit import audit_event
from st_mcp.store import audit as audit_store
from st_mcp.store.audit import AuditLog
from st_mcp.store.engine import open_engine


async def run(url: str, tasks: int, each: int, batch: int) -> str:
    audit_store._MAX_BATCH = batch
    engine = await open_engine(url)
    log = AuditLog(engine)
    transactions = 0

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        nonlocal transactions
        transactions += statement.startswith("INSERT INTO audit_events")

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    waits: list[float] = []
    start_count = await log.count()

    async def caller(t: int) -> None:
        for n in range(each):
            started = time.perf_counter()
            await log.append(
                audit_event(
                    at=datetime.now(UTC), kind="tool_call", principal=f"session-{t}", role="virtual_agent",
                    transport="http", tool="lookup_customer", arguments={"n": n}, outcome="ok",
                )
            )  # fmt: skip
            waits.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    try:
        async with anyio.create_task_group() as group:
            for t in range(tasks):
                group.start_soon(caller, t)
        elapsed = time.perf_counter() - started
        kept = await log.count() - start_count
        verified = await log.verify()
    finally:
        await engine.dispose()
    waits.sort()
    return (
        f"kept {kept}/{tasks * each}, chain ok={verified.ok}, {transactions} transactions, "
        f"{tasks * each / elapsed:,.0f} records/s, wait p50 {statistics.median(waits):.1f} ms "
        f"p99 {waits[int(len(waits) * 0.99) - 1]:.1f} ms"
    )


async def main(url: str | None, tasks: int, each: int) -> None:
    for name, batch in (("group commit", 500), ("one per transaction", 1)):
        with tempfile.TemporaryDirectory() as folder:
            target = url or f"sqlite+aiosqlite:///{Path(folder) / 'audit.db'}"
            print(f"{name:<20} {await run(target, tasks, each, batch)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--each", type=int, default=5)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a fresh SQLite file)")
    arguments = parser.parse_args()
    anyio.run(main, arguments.url, arguments.tasks, arguments.each)
