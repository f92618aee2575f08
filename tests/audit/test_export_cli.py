"""``st-mcp audit export``: JSON Lines, oldest first, from ``--since`` on, to a file or standard output;
each line carries its hash, checkable with sha256 alone."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import anyio
import pytest

from st_mcp import cli
from st_mcp.policy.audit import canonical

from .helpers import seed, sqlite_url

pytestmark = pytest.mark.usefixtures("trail")


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten records, one a minute from 2026-05-05 16:31 UTC (record n at 16:30 + n minutes)."""
    url = sqlite_url(tmp_path)
    anyio.run(seed, url, 10)
    monkeypatch.delenv("ST_MCP_CONFIG", raising=False)
    monkeypatch.setenv("ST_MCP_DATABASE_URL", url)


def rows(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_export_since_writes_the_later_records_oldest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "audit.jsonl"
    # 10:36 in Denver is 16:36 UTC: records 6 to 10.
    code = cli.main(["audit", "export", "--since", "2026-05-05T10:36:00-06:00", "--output", str(output)])
    assert code == 0
    assert capsys.readouterr().out == ""  # the records went to the file, not to stdout
    text = output.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 5
    exported = rows(text)
    assert [row["seq"] for row in exported] == [6, 7, 8, 9, 10]
    assert exported[0]["at"] == "2026-05-05T16:36:00.000000+00:00"
    assert exported[0]["arguments"] == {"interaction_id": "int_0006", "text": "message 6"}
    assert set(exported[0]) == {
        "seq", "id", "at", "kind", "principal", "role", "transport", "tool", "arguments", "outcome",
        "reason", "interaction_id", "upstream_requests", "duration_ms", "prev_hash", "hash",
    }  # fmt: skip
    for line in text.splitlines():  # each line is canonical JSON whose hash checks
        row = json.loads(line)
        assert canonical(row) == line
        digest = row.pop("hash")
        assert hashlib.sha256((str(row["prev_hash"]) + canonical(row)).encode()).hexdigest() == digest
    for before, after in itertools.pairwise(exported):
        assert after["prev_hash"] == before["hash"]


def test_export_without_since_writes_everything_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "export"]) == 0
    assert [row["seq"] for row in rows(capsys.readouterr().out)] == list(range(1, 11))


def test_a_naive_since_is_utc_and_a_bad_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "export", "--since", "2026-05-05T16:39:00"]) == 0
    assert [row["seq"] for row in rows(capsys.readouterr().out)] == [9, 10]
    assert cli.main(["audit", "export", "--since", "last tuesday"]) == 2
    assert "ISO 8601" in capsys.readouterr().err
