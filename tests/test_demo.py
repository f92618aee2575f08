"""The README's demo runs end to end on the embedded sandbox and tells the truth about what it did."""

from __future__ import annotations

import re

import pytest

from st_mcp.cli import main


def test_demo_books_into_real_capacity_with_one_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ST_TENANT_ID", "ST_CLIENT_ID", "ST_CLIENT_SECRET", "ST_APP_KEY", "ST_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    assert main(["demo"]) == 0

    captured = capsys.readouterr()
    assert "using the sandbox ServiceTitan tenant" in captured.err
    out = captured.out
    assert "Jordan Avery" in out
    before, after = map(int, re.search(r"free: (\d+) → (\d+)", out).groups())
    assert after == before - 1
    assert "Scheduled" in out
    assert "1 token request" in out
