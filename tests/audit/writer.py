"""One OS process appending audit events (run by test_two_processes.py):

    python -m tests.audit.writer DATABASE_URL NAME COUNT GO_FILE

It opens the store, waits until GO_FILE exists (so both processes start appending at once), then
appends COUNT events as principal NAME, numbered 1..COUNT in ``arguments.n``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio

from st_mcp.store.audit import AuditLog
from st_mcp.store.engine import open_engine
from tests.audit.helpers import event


async def append_events(url: str, name: str, count: int, go: Path) -> None:
    engine = await open_engine(url)
    try:
        log = AuditLog(engine)
        deadline = time.monotonic() + 30
        while not await anyio.Path(go).exists():  # a cross-process start line, polled briefly
            if time.monotonic() > deadline:
                raise SystemExit("the start signal never came")
            await anyio.sleep(0.005)
        for n in range(1, count + 1):
            await log.append(event(n, principal=name, arguments={"n": n, "writer": name}))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    database_url, writer, total, go_file = sys.argv[1:5]
    anyio.run(append_events, database_url, writer, int(total), Path(go_file))
