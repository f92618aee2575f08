"""Two OS processes appending to one SQLite file at the same time: the chain stays one chain — contiguous
seqs, every event present once, each writer's events in its own order — and verifies."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import anyio
import pytest

from .helpers import audit_log, sqlite_url

pytestmark = pytest.mark.slow

PER_WRITER = 100
REPO = Path(__file__).resolve().parents[2]


def test_two_processes_appending_at_once_keep_one_intact_chain(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    go = tmp_path / "go"
    anyio.run(_create, url)  # the schema exists before either writer starts
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit.writer", url, name, str(PER_WRITER), str(go)],
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
    assert verified.checked == 2 * PER_WRITER
    assert [r.seq for r in records] == list(range(1, 2 * PER_WRITER + 1))
    assert Counter(r.principal for r in records) == {"writer-a": PER_WRITER, "writer-b": PER_WRITER}
    for name in ("writer-a", "writer-b"):
        assert [r.arguments["n"] for r in records if r.principal == name] == list(range(1, PER_WRITER + 1))


async def _create(url: str) -> None:
    async with audit_log(url):
        pass


async def _read(url: str) -> tuple[list, object]:
    async with audit_log(url) as log:
        return [r async for r in log.iter_since()], await log.verify()
