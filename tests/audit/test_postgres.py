"""The audit chain on PostgreSQL (asyncpg): the same guarantees as on SQLite — two OS processes appending
at once keep one contiguous, verifiable chain; a writer that loses the race on the primary key retries;
tampering is named. Needs a server: set ST_MCP_TEST_POSTGRES_URL (e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``); each test gets a database of its own."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from st_mcp.store.audit import AuditLog
from tests.postgres import needs_postgres

from .helpers import audit_log, event

pytestmark = needs_postgres
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def log(pg_url: str) -> AsyncIterator[AuditLog]:
    async with audit_log(pg_url) as opened:
        yield opened


@pytest.mark.anyio
async def test_records_round_trip_and_verify(log: AuditLog) -> None:
    appended = [await log.append(event(n)) for n in range(1, 6)]
    assert [r async for r in log.iter_since()] == appended
    assert (await log.verify()).ok


@pytest.mark.anyio
async def test_writers_without_the_advisory_lock_collide_on_the_key_and_retry(log: AuditLog) -> None:
    racers = [log, AuditLog(log._engine)]  # a second writer, same database
    for racer in racers:
        racer._postgres = False  # no lock: only the key guards

    async def write(racer: AuditLog, name: str) -> None:
        for n in range(1, 41):
            await racer.append(event(n, principal=name))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(write, racers[0], "a")
        tasks.start_soon(write, racers[1], "b")
    records = [r async for r in log.iter_since()]
    assert [r.seq for r in records] == list(range(1, 81))
    assert Counter(r.principal for r in records) == {"a": 40, "b": 40}
    assert (await log.verify()).ok


@pytest.mark.anyio
async def test_an_edited_record_is_named(log: AuditLog) -> None:
    for n in range(1, 11):
        await log.append(event(n))
    async with log._engine.begin() as conn:  # tampering, on purpose — as the table's owner, who can
        await conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))  # lift the guard
        await conn.execute(text("UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 7"))
    result = await log.verify()
    assert (result.ok, result.first_broken_seq) == (False, 7)
    assert result.problem == "record 7: hash does not match its contents (edited?)"


@pytest.mark.slow
def test_two_processes_appending_at_once_keep_one_intact_chain(pg_url: str, tmp_path: Path) -> None:
    anyio.run(_create, pg_url)
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit.writer", pg_url, name, "100", str(go)],
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
    seqs, principals, verified = anyio.run(_read, pg_url)
    assert verified
    assert seqs == list(range(1, 201))
    assert principals == {"writer-a": 100, "writer-b": 100}


async def _create(url: str) -> None:
    async with audit_log(url):
        pass


async def _read(url: str) -> tuple[list[int], Counter[str], bool]:
    async with audit_log(url) as opened:
        records = [r async for r in opened.iter_since()]
        return [r.seq for r in records], Counter(r.principal for r in records), (await opened.verify()).ok


@pytest.mark.anyio
@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET reason = 'x' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 3",
     "TRUNCATE audit_events"],
)  # fmt: skip
async def test_the_application_cannot_change_or_delete_a_record(log: AuditLog, statement: str) -> None:
    for n in range(1, 4):
        await log.append(event(n))
    with pytest.raises(DBAPIError, match="append-only"):
        async with log._engine.begin() as conn:
            await conn.execute(text(statement))
    assert (await log.verify()).ok and await log.count() == 3
