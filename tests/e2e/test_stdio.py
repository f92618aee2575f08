"""``st-mcp`` with no arguments serves MCP over stdio to a real client in a child process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from .conftest import (
    READ_TIMEOUT,
    SANDBOX_NOTICE,
    TEST_TIMEOUT,
    TransportFaults,
    book_first_slot,
    exercise_read_tools,
    explained,
    read_log,
    server_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[TextIO]:
    """The server's stderr, as a real file (the SDK hands it to the child process)."""
    with (tmp_path / "server.stderr").open("w+", encoding="utf-8") as file:
        yield file


async def test_stdio_lookup_slots_and_book(tmp_path: Path, errlog: TextIO) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "st_mcp"], env=server_env(tmp_path / "server"), cwd=tmp_path
    )
    faults = TransportFaults()
    # Client(StdioServerParameters) is Client(stdio_client(params)); the explicit transport adds errlog.
    transport = stdio_client(params, errlog=errlog)
    with explained(Path(errlog.name)), anyio.fail_after(TEST_TIMEOUT):
        async with Client(transport, message_handler=faults, read_timeout_seconds=READ_TIMEOUT) as client:
            assert client.session.protocol_version == "2026-07-28"
            pieces = await exercise_read_tools(client)
            booked = await book_first_slot(client, pieces)
            status = await client.call_tool("get_job_status", {"job_id": booked["job_id"]})
            assert not status.is_error and status.structured_content["job_id"] == booked["job_id"]
        # A stray print() to stdout reaches the client as an unparsable line: the SDK logs it and passes
        # the exception to message_handler, but keeps the session going; so check here.
        assert faults.errors == [], f"server wrote non-protocol output to stdout: {faults.errors!r}"
        stderr = read_log(Path(errlog.name))
        assert SANDBOX_NOTICE in stderr and "(in-process)" in stderr, stderr
