"""``st-mcp jobs watch``: one run of the job-events watcher on the configured tenant (here the embedded
sandbox and a throwaway store), its summary as JSON; a second run starts from the stored tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from st_mcp.cli import main
from st_mcp.config import CREDENTIAL_VARS


def test_jobs_watch_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ST_MCP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/st.db")
    monkeypatch.setenv("ST_MCP_SANDBOX_STATE", "memory")
    assert main(["jobs", "watch"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first == {
        "events": [],
        "texts_sent": 0,
        "texts_held": 0,
        "texts_dropped": 0,
        "skipped_poll": False,
        "bookings_converted": 0,
    }
    assert main(["jobs", "watch"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped_poll"] is False
