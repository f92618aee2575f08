"""One OS process appending audit events (run by test_two_processes.py):

    python -m tests.audit.writer DATABASE_URL NAME COUNT GO_FILE [TASKS]

It opens the store, waits until GO_FILE exists (so both processes start appending at once), then
appends COUNT events as principal NAME, numbered 1..COUNT in ``arguments.n`` — from each of TASKS
concurrent tasks (default 1; with more, ``arguments.task`` says which), all through one ``AuditLog``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio

from st_mcp.store.audit import AuditLog
from st_mcp.store.engine import open_engine
from tests.audit.helpers import event


async def append_events(url: str, name: str, count: int, go: Path, tasks: int = 1) -> None:
    engine = await open_engine(url)
    try:
        log = AuditLog(engine)
        deadline = time.monotonic() + 30
        while not await anyio.Path(go).exists():  # a cross-process start line, polled briefly
            if time.monotonic() > deadline:
                raise SystemExit("the start signal never came")
            await anyio.sleep(0.005)

        async def append(task: int | None) -> None:
            for n in range(1, count + 1):
                arguments = {"n": n, "writer": name} | ({} if task is None else {"task": task})
                await log.append(event(n, principal=name, arguments=arguments))

        async with anyio.create_task_group() as group:
            for task in range(tasks):
                group.start_soon(append, task if tasks > 1 else None)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    database_url, writer, total, go_file = sys.argv[1:5]
    concurrent = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    anyio.run(append_events, database_url, writer, int(total), Path(go_file), concurrent)
