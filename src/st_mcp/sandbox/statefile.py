"""``StateFile``: one sandbox tenant kept in its own SQLite file, shared by every process that opens it.

Each part of the tenant (snapshot.py) is a row stamped with the version that last wrote it. A writer takes
SQLite's write lock (``BEGIN IMMEDIATE``), first catches up with the rows other processes wrote since it
last looked, then rewrites only the parts whose JSON changed under the next version. Readers compare one
``max(version)`` and reload only newer rows, so an idle tenant costs a single indexed read per request.

Statements are synchronous (each takes a few milliseconds). Waiting for the write lock is not: a request
holding it may be awaiting in this very event loop (another app on the same file, one per MCP session), so
``writing()`` retries ``BEGIN IMMEDIATE`` with short asynchronous sleeps instead of letting SQLite block
the loop.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio

from . import snapshot
from .state import SandboxTenant

BUSY_TIMEOUT_SECONDS = 10.0  # how long a writer waits for another one before failing
_BUSY_SLICE_SECONDS = 0.02  # SQLite's own (blocking) wait per attempt
_RETRY_SECONDS = 0.005  # the asynchronous pause between attempts
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_parts (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body BLOB NOT NULL
)
"""


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are exactly the BEGIN/COMMIT written here.
        self._db = sqlite3.connect(
            path, timeout=_BUSY_SLICE_SECONDS, isolation_level=None, check_same_thread=False
        )
        self._startup_pragma("PRAGMA journal_mode=WAL")  # readers never wait for a writer
        # A commit survives the process dying, not the machine losing power: right for a test tenant,
        # and it spares every write an fsync.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self.version = 0  # the version of what this process holds in memory
        self._bodies: dict[str, bytes] = {}  # the JSON of each part as last read or written

    def _startup_pragma(self, statement: str) -> None:
        """Switching to WAL needs the file to itself for a moment, and SQLite answers "database is locked"
        at once, without waiting, while another process (a second server starting beside this one) holds
        it: retried here until ``BUSY_TIMEOUT_SECONDS``."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self._db.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(_RETRY_SECONDS)

    def close(self) -> None:
        self._db.close()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Hold SQLite's write lock: other writers (processes, or apps in this loop) wait until commit."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        # Polling, not an Event: the holder may be another process, which cannot signal this one.
        while not self._try_begin(deadline):  # noqa: ASYNC110
            await anyio.sleep(_RETRY_SECONDS)
        with self._transaction():
            yield

    @contextlib.contextmanager
    def writing_now(self) -> Iterator[None]:
        """``writing()`` for start-up and the CLI, where blocking the thread is fine."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while not self._try_begin(deadline):
            time.sleep(_RETRY_SECONDS)
        with self._transaction():
            yield

    def _try_begin(self, deadline: float) -> bool:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            return False
        return True

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def stored_version(self) -> int:
        row = self._db.execute("SELECT coalesce(max(version), 0) FROM sandbox_parts").fetchone()
        return int(row[0])

    def open(self, tenant: SandboxTenant) -> bool:
        """Load the stored tenant into ``tenant``, or store ``tenant`` (freshly seeded) if the file holds
        none yet. True when a stored tenant was loaded."""
        with self.writing_now():
            if self.stored_version() == 0:
                self._write(tenant, everything=True)
                return False
            self.refresh(tenant)
            return True

    def refresh(self, tenant: SandboxTenant) -> bool:
        """Catch up with what other processes wrote; True if anything was reloaded."""
        if self.stored_version() == self.version:
            return False
        rows = self._db.execute(
            "SELECT name, version, body FROM sandbox_parts WHERE version > ? ORDER BY name", (self.version,)
        ).fetchall()
        for name, version, body in rows:
            snapshot.restore(tenant, name, bytes(body))
            self._bodies[name] = bytes(body)
            self.version = max(self.version, int(version))
        return True

    def discard_changes(self, tenant: SandboxTenant) -> None:
        """Put back the stored tenant (after a request failed half-way through its changes)."""
        self.version = 0
        self._bodies.clear()
        self.refresh(tenant)

    def save(self, tenant: SandboxTenant) -> int:
        """Write the parts that changed (inside ``writing()``, after ``refresh``); returns how many."""
        return self._write(tenant, everything=False)

    def replace(self, tenant: SandboxTenant) -> None:
        """Store ``tenant`` as the whole state (``st-mcp sandbox reset``); running processes reload it."""
        with self.writing_now():
            self.version = self.stored_version()
            self._db.execute("DELETE FROM sandbox_parts")
            self._write(tenant, everything=True)

    def _write(self, tenant: SandboxTenant, *, everything: bool) -> int:
        parts = snapshot.dump(tenant)
        changed = {n: b for n, b in parts.items() if everything or self._bodies.get(n) != b}
        if not changed:
            return 0
        version = max(self.version, self.stored_version()) + 1
        self._db.executemany(
            "INSERT INTO sandbox_parts (name, version, body) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET version = excluded.version, body = excluded.body",
            [(name, version, body) for name, body in changed.items()],
        )
        self.version = version
        self._bodies.update(changed)
        return len(changed)
