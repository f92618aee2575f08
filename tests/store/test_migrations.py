"""Alembic migrations: an empty store and one made before migrations both reach the newest revision,
the migrated schema is exactly the tables the code declares (so every schema change ships as a
migration), and processes starting at once on one database do not race. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from st_mcp.store import migrate
from st_mcp.store.engine import create_engine, open_engine
from st_mcp.store.schema import managed_by_database, metadata
from tests.postgres import needs_postgres

HERE = Path(__file__).parent
REPO = HERE.parents[1]
ENGINES = ["sqlite", pytest.param("postgresql", marks=needs_postgres)]


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        yield request.getfixturevalue("pg_url")


# The FTS5 table SQLite keeps for the search index is the database's, not a declared table.
_OPTS = {"include_name": lambda name, kind, _parent: not managed_by_database(name)}


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts=_OPTS), metadata)
            )
    finally:
        await engine.dispose()


async def _load(url: str, ddl: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in ddl.split(";\n"):
                body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
                if body.strip():
                    await conn.exec_driver_sql(body)
    finally:
        await engine.dispose()


def _dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@pytest.mark.anyio
async def test_an_empty_store_reaches_head_and_matches_the_declared_tables(store_url: str) -> None:
    engine = await open_engine(store_url)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()
    assert await _differences(store_url) == []


@pytest.mark.anyio
async def test_a_store_made_before_migrations_is_adopted_with_its_rows(store_url: str) -> None:
    await _load(store_url, (HERE / f"store_v4.{_dialect(store_url)}.sql").read_text())
    engine = create_engine(store_url)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO server_secrets (name, value) VALUES ('slot-signing', 'kept')"))
    await engine.dispose()

    for _ in range(2):  # the second start finds nothing to do
        engine = await open_engine(store_url)
        try:
            async with engine.connect() as conn:
                kept = (await conn.execute(text("SELECT value FROM server_secrets"))).scalars().all()
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert kept == ["kept"]
            assert "schema_version" not in tables
            assert await migrate.current_revision(engine) == migrate.head_revision()
        finally:
            await engine.dispose()
    assert await _differences(store_url) == []


@pytest.mark.anyio
async def test_an_older_deliveries_table_gains_error_code_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TABLE deliveries (message_id VARCHAR(40) NOT NULL PRIMARY KEY, gateway VARCHAR(16) "
            "NOT NULL, provider_message_id VARCHAR(64), status VARCHAR(16) NOT NULL)"
        )
        await conn.exec_driver_sql("INSERT INTO deliveries VALUES ('msg_1', 'twilio', 'SM1', 'queued')")
    await engine.dispose()

    engine = await open_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT status, error_code FROM deliveries"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [("queued", None)]


@pytest.mark.slow
def test_db_upgrade_from_three_processes_at_once_upgrades_once(store_url: str) -> None:
    """Replicas starting together: each runs ``st-mcp db upgrade``; one upgrades, the others wait on the
    lock and find the store at head — none fails, and the store holds one revision row."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "st_mcp", "db", "upgrade"],
            cwd=REPO,
            env={"ST_MCP_DATABASE_URL": store_url, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        outputs.append(out)
    upgraded = [out for out in outputs if out.startswith("store upgraded: empty ->")]
    assert len(upgraded) == 1, outputs
    assert sum(out.startswith("store already at the newest revision") for out in outputs) == 2

    async def revisions() -> list[str]:
        engine = create_engine(store_url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        finally:
            await engine.dispose()

    assert anyio.run(revisions) == [migrate.head_revision()]
    assert anyio.run(_differences, store_url) == []


def test_db_current_names_the_revision_and_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"

    def db(command: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "st_mcp", "db", command],
            cwd=REPO,
            env={"ST_MCP_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    head = migrate.head_revision()
    behind = f"behind: run st-mcp db upgrade to reach {head}"
    assert db("current") == f"store revision none, newest {head}: {behind}"
    assert db("upgrade").startswith(f"store upgraded: empty -> {head}")
    assert db("current") == f"store revision {head}, newest {head}: up to date"


@pytest.mark.parametrize("command", ["upgrade", "current"])
def test_an_unreachable_store_is_one_line_and_exit_1(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "st_mcp", "db", command],
        cwd=REPO,
        env={"ST_MCP_DATABASE_URL": "postgresql+asyncpg://st:secret@127.0.0.1:1/x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("st-mcp: cannot ") and "secret" not in line, line
