"""Audit records under load (issue 17): one writer per process chains concurrent appends in memory and
commits them in batches. Every record is present once, each caller's records keep their order, the chain
verifies — with 200 concurrent writers, a database error in the middle of a batch, a commit reported as
failed after it happened, and two processes racing. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy.exc import OperationalError

from st_mcp.policy.audit import AuditRecord
from st_mcp.store.audit import AuditLog, AuditWriteError
from tests.postgres import needs_postgres

from .helpers import audit_log, event, sqlite_url

REPO = Path(__file__).resolve().parents[2]
ENGINES = ["sqlite", pytest.param("postgresql", marks=needs_postgres)]


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
async def log(store_url: str) -> AsyncIterator[AuditLog]:
    async with audit_log(store_url) as opened:
        yield opened


class Statements:
    """Counts what the writer sends: transactions begun (the head lock) and inserts into the chain."""

    def __init__(self, log: AuditLog) -> None:
        self.locks = 0
        self.inserts = 0
        sa_event.listen(log._engine.sync_engine, "before_cursor_execute", self.seen)

    def seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.locks += "BEGIN IMMEDIATE" in statement or "pg_advisory_xact_lock" in statement
        self.inserts += statement.startswith("INSERT INTO audit_events")


async def appended_by(log: AuditLog, writers: int, each: int) -> list[AuditRecord]:
    returned: list[AuditRecord] = []

    async def write(w: int) -> None:
        for n in range(1, each + 1):
            returned.append(await log.append(event(n, principal=f"w{w}", arguments={"n": n})))

    async with anyio.create_task_group() as tasks:
        for w in range(writers):
            tasks.start_soon(write, w)
    return returned


async def assert_one_intact_chain(log: AuditLog, writers: int, each: int) -> list[AuditRecord]:
    records = [r async for r in log.iter_since()]
    assert [r.seq for r in records] == list(range(1, writers * each + 1))
    assert Counter(r.principal for r in records) == {f"w{w}": each for w in range(writers)}
    for w in range(writers):  # each caller's records in the order it appended them
        assert [r.arguments["n"] for r in records if r.principal == f"w{w}"] == list(range(1, each + 1))
    verified = await log.verify()
    assert verified.ok, verified.problem
    assert verified.checked == writers * each
    return records


@pytest.mark.anyio
async def test_two_hundred_concurrent_writers_lose_nothing_and_share_commits(log: AuditLog) -> None:
    statements = Statements(log)
    returned = await appended_by(log, writers=200, each=3)
    records = await assert_one_intact_chain(log, 200, 3)
    assert sorted(returned, key=lambda r: r.seq) == records  # what each caller got is what is stored
    assert statements.locks == statements.inserts  # one insert per transaction …
    assert statements.inserts < 600 // 4  # … and far fewer transactions than records: group commit


@pytest.mark.anyio
async def test_a_database_error_mid_batch_is_retried_without_loss_or_duplicates(log: AuditLog) -> None:
    await appended_by(log, writers=1, each=2)  # a chain to continue
    failures = {"left": 2}

    def fail_twice(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO audit_events") and failures["left"]:
            failures["left"] -= 1
            raise OperationalError(statement, None, Exception("database is locked"))

    sa_event.listen(log._engine.sync_engine, "before_cursor_execute", fail_twice)
    try:
        returned = await appended_by_others(log, writers=50)
    finally:
        sa_event.remove(log._engine.sync_engine, "before_cursor_execute", fail_twice)
    assert failures["left"] == 0  # both failures happened, on batches with records in them
    records = [r async for r in log.iter_since()]
    assert [r.seq for r in records] == list(range(1, 53))
    assert sorted(r.id for r in records[2:]) == sorted(r.id for r in returned)
    assert (await log.verify()).ok


async def appended_by_others(log: AuditLog, writers: int) -> list[AuditRecord]:
    returned: list[AuditRecord] = []

    async def write(w: int) -> None:
        returned.append(await log.append(event(w, principal=f"other{w}")))

    async with anyio.create_task_group() as tasks:
        for w in range(writers):
            tasks.start_soon(write, w)
    return returned


@pytest.mark.anyio
async def test_a_commit_reported_as_failed_is_not_written_twice(log: AuditLog, monkeypatch: Any) -> None:
    """The batch committed, then the error came (a connection lost on the reply): the retry finds its
    event ids stored and hands back those records."""
    write = log._write
    calls = {"n": 0}

    async def committed_then_failed(events: Any, *, retry: bool) -> list[AuditRecord]:
        records = await write(events, retry=retry)
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("COMMIT", None, Exception("connection lost after commit"))
        return records

    monkeypatch.setattr(log, "_write", committed_then_failed)
    returned = await appended_by(log, writers=20, each=2)
    records = await assert_one_intact_chain(log, 20, 2)
    assert sorted(returned, key=lambda r: r.seq) == records


@pytest.mark.anyio
async def test_a_database_that_keeps_refusing_fails_every_caller_of_the_batch(
    log: AuditLog, monkeypatch: Any
) -> None:
    async def refused(events: Any, *, retry: bool) -> list[AuditRecord]:
        raise OperationalError("INSERT", None, Exception("disk I/O error"))

    monkeypatch.setattr(log, "_write", refused)
    monkeypatch.setattr("st_mcp.store.audit._ATTEMPTS", 3)
    errors: list[Exception] = []

    async def write(n: int) -> None:
        try:
            await log.append(event(n))
        except AuditWriteError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tasks:
        for n in range(10):
            tasks.start_soon(write, n)
    assert len(errors) == 10  # nobody is told their record was kept
    monkeypatch.undo()
    assert await log.count() == 0
    await appended_by(log, writers=3, each=1)  # and the writer is not stuck
    assert (await log.verify()).ok


@pytest.mark.anyio
async def test_a_cancelled_caller_still_has_its_record_written(log: AuditLog) -> None:
    async with anyio.create_task_group() as tasks:
        for n in range(20):
            tasks.start_soon(log.append, event(n, principal=f"w{n}"))
        await anyio.lowlevel.checkpoint()
        tasks.cancel_scope.cancel()
    assert await log.count() == 20
    assert (await log.verify()).ok


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_two_processes_each_with_fifty_concurrent_writers_keep_one_chain(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if engine == "sqlite" else request.getfixturevalue("pg_url")
    anyio.run(_create, url)
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit.writer", url, name, "4", str(go), "50"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("writer-a", "writer-b")
    ]
    go.touch()
    for process in writers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    records, verified = anyio.run(_read, url)
    assert verified.ok, verified.problem
    assert [r.seq for r in records] == list(range(1, 401))
    assert Counter(r.principal for r in records) == {"writer-a": 200, "writer-b": 200}
    for name in ("writer-a", "writer-b"):
        for task in range(50):
            mine = [r.arguments["n"] for r in records if r.principal == name and r.arguments["task"] == task]
            assert mine == [1, 2, 3, 4]


async def _create(url: str) -> None:
    async with audit_log(url):
        pass


async def _read(url: str) -> tuple[list[AuditRecord], Any]:
    async with audit_log(url) as opened:
        return [r async for r in opened.iter_since()], await opened.verify()
