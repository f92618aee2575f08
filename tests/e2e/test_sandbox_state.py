"""The embedded sandbox remembers across processes on one data folder: a job booked by one ``st-mcp`` is
found by the next, the next booking gets a new id, and ``st-mcp sandbox reset`` starts the tenant afresh."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from .conftest import (
    READ_TIMEOUT,
    TEST_TIMEOUT,
    book_first_slot,
    exercise_read_tools,
    explained,
    server_env,
    structured,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


async def in_a_new_process(folder: Path, errlog: Path, steps: Any) -> Any:
    """Start ``st-mcp`` (stdio) on the folder, run ``steps(client)``, stop it."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "st_mcp"], env=server_env(folder), cwd=folder
    )
    with errlog.open("a", encoding="utf-8") as log, explained(errlog), anyio.fail_after(TEST_TIMEOUT):
        async with Client(stdio_client(params, errlog=log), read_timeout_seconds=READ_TIMEOUT) as client:
            return await steps(client)


async def book(client: Any) -> dict[str, Any]:
    return await book_first_slot(client, await exercise_read_tools(client))


async def test_a_booking_outlives_its_process_until_reset(tmp_path: Path) -> None:
    folder, errlog = tmp_path / "data", tmp_path / "servers.stderr"
    first = await in_a_new_process(folder, errlog, book)
    assert (folder / "sandbox.db").is_file()  # beside the store, st-mcp.db

    async def look_then_book(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        status = structured(await client.call_tool("get_job_status", {"job_id": first["job_id"]}), "status")
        return status, await book(client)

    status, second = await in_a_new_process(folder, errlog, look_then_book)
    assert status["job_id"] == first["job_id"] and status["status"] == "Scheduled", status
    assert second["job_id"] != first["job_id"]

    with anyio.fail_after(60):
        reset = await anyio.run_process(
            [sys.executable, "-m", "st_mcp", "sandbox", "reset"], env=server_env(folder), cwd=folder
        )
    stderr = reset.stderr.decode()
    assert f"sandbox tenant in {folder / 'sandbox.db'} reset" in stderr, stderr

    async def look(client: Any) -> Any:
        return await client.call_tool("get_job_status", {"job_id": second["job_id"]})

    gone = await in_a_new_process(folder, errlog, look)
    text = " ".join(getattr(block, "text", "") for block in gone.content)
    assert gone.is_error and str(second["job_id"]) in text, text
