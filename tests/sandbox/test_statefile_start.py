"""Two servers starting at once on one sandbox state file: the second waits for the first, it does not die
("database is locked" from switching to WAL — seen once in the two-process gate simulation)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from st_mcp.sandbox.statefile import StateFile


def test_a_second_process_starting_while_the_first_writes_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("BEGIN EXCLUSIVE")  # the first server, mid-way through creating the tenant
    first.execute("CREATE TABLE starting (x)")
    threading.Timer(0.3, lambda: first.execute("COMMIT")).start()
    second = StateFile(path)  # before: "database is locked" at once
    second.close()
    first.close()
